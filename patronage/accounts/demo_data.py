"""Names and places for demonstration and benchmark data (``patronage demo``, ``bench/``).

A mix of common English-language names and names from the many languages a research
library's patrons speak, with accents, apostrophes and multi-word surnames, so that the
name search and the sort order are exercised the way real data exercises them.
"""

from __future__ import annotations

import unicodedata


def _names(text: str) -> tuple[str, ...]:
    return tuple(name.strip() for name in text.split(",") if name.strip())


FIRST_NAMES: tuple[str, ...] = _names(
    """
    Aaron, Abigail, Aditya, Aisha, Alejandro, Alexander, Amara, Amelia, Ana María, Ananya,
    Andrew, Anneke, Anaïs, Anthony, Aoife, Arjun, Astrid, Ava, Avery, Benjamin, Björn, Brian,
    Camila, Carmen, Charles, Chiara, Chinedu, Chloé, Christopher, Ciarán, Daniel, David, Diego,
    Dmitri, Dorota, Dylan, Edward, Elijah, Elizabeth, Ella, Emily, Emma, Eoin, Eric, Ethan,
    Evelyn, Fatima, Femke, Francesca, François, Gabriel, George, Giulia, Grace, Hannah, Harper,
    Haruto, Hassan, Helen, Hélène, Henry, Hiroshi, Ines, Ingrid, Isaac, Isabella, Jacob, James,
    Javier, Jennifer, Jessica, Jiahui, Ji-woo, Joaquín, John, Joris, José, Joseph, Joshua, Jun,
    Jürgen, Katherine, Kavya, Kevin, Kofi, Kwame, Lars, Laura, Layla, Leila, Liam, Lily, Linda,
    Lorenzo, Lucas, Lucía, Luke, Łukasz, Mairéad, Marco, Margaret, Mark, Mateo, Matteo,
    Matthew, Mei, Mia, Michael, Mila, Min-jun, Mohammed, Nancy, Nathan, Ngọc, Ngozi, Nia,
    Niamh, Nikolai, Noah, Nora, Olga, Olivia, Oluwaseun, Omar, Owen, Patricia, Patrick, Paul,
    Peter, Pilar, Priya, Rachel, Raúl, Rebecca, Renée, Richard, Riley, Robert, Rohan, Rosa,
    Ruth, Ryan, Samuel, Sarah, Scarlett, Sean, Seo-yeon, Sinéad, Siobhán, Sofía, Søren, Steven,
    Susan, Svetlana, Tariq, Thabo, Thomas, Tomás, Tyler, Valentina, Wei, William, Xiaoling,
    Yuki, Yusuf, Zainab, Zoë, Zoltán
    """
)

LAST_NAMES: tuple[str, ...] = _names(
    """
    Abebe, Adams, Adeyemi, Aguilar, Ahmed, Ali, Allen, Alvarado, Alvarez, Andersen, Anderson,
    Andrews, Armstrong, Arnold, Bailey, Baker, Barnes, Becker, Bell, Bennett, Berry, Bianchi,
    Björk, Black, Boateng, Boyd, Bradley, Brooks, Brown, Bryant, Burns, Butler, Campbell,
    Carpenter, Carroll, Carter, Castillo, Castro, Chavez, Chen, Cho, Choi, Clark, Cole,
    Coleman, Collins, Cook, Cooper, Cox, Crawford, Cruz, Cunningham, Daniels, de la Cruz,
    Delgado, Diaz, Dixon, Dlamini, Dubois, Duncan, Dunn, Edwards, Elliott, Ellis, Esposito,
    Evans, Ferguson, Fernandez, Ferrari, Fischer, Fisher, Flores, Ford, Foster, Fox, Freeman,
    García, García Márquez, Gardner, Garza, Gibson, Girard, Gomez, Gonzalez, Gordon, Graham,
    Grant, Gray, Green, Griffin, Guo, Gupta, Gutierrez, Guzman, Haddad, Hall, Hamilton, Hansen,
    Harris, Harrison, Hart, Hawkins, Hayes, He, Henderson, Henry, Hernandez, Herrera, Hicks,
    Hill, Hoàng, Hoffman, Holmes, Horváth, Howard, Hu, Huang, Hudson, Hughes, Hunt, Hunter,
    Hussain, Itō, Ivanov, Iyer, Jackson, James, Jenkins, Jensen, Jimenez, Johansson, Johnson,
    Johnston, Jones, Jordan, Jung, Kang, Kelly, Kennedy, Khan, Kim, King, Knight, Kobayashi,
    Korhonen, Kowalski, Kumar, Lane, Lawrence, Le, Lee, Lefèvre, Lewis, Li, Lin, Lindqvist,
    Liu, Long, Lopez, Ma, Marshall, Martin, Martinez, Mason, Matthews, McDonald, Medina, Mehta,
    Mendez, Mendoza, Mensah, Meyer, Miller, Mills, Mitchell, Moore, Morales, Moreau, Moreno,
    Morgan, Morris, Müller, Muñoz, Murphy, Murray, Myers, Nagy, Nakamura, Nasser, Nelson,
    Nguyễn, Nielsen, Nkosi, Novák, Nowak, O'Brien, O'Connor, Ó Briain, Okafor, Okonkwo, Olson,
    Ortiz, Owens, Palmer, Park, Parker, Patel, Patterson, Payne, Peña, Perez, Perkins, Peters,
    Peterson, Petrova, Phạm, Phillips, Pierce, Porter, Powell, Price, Rahman, Ramirez, Ramos,
    Reddy, Reed, Reyes, Reynolds, Rice, Richards, Richardson, Rivera, Roberts, Robinson,
    Rodriguez, Rogers, Romano, Romero, Rose, Ross, Rossi, Ruiz, Russell, Russo, Ryan, Salazar,
    Sanchez, Sanders, Santos, Schäfer, Schmidt, Schneider, Scott, Shah, Sharma, Shaw, Silva,
    Simmons, Simpson, Singh, Smirnov, Smith, Snyder, Søndergaard, Soto, Spencer, Stephens,
    Stevens, Stewart, Stone, Sullivan, Sun, Suzuki, Takahashi, Tanaka, Taylor, Thomas,
    Thompson, Torres, Trần, Tucker, Turner, van der Berg, Vargas, Vasquez, Vázquez, Virtanen,
    Wagner, Walker, Wallace, Wang, Ward, Warren, Washington, Watanabe, Watson, Weaver, Webb,
    Weber, Wells, West, White, Williams, Willis, Wilson, Wiśniewski, Wójcik, Wood, Woods,
    Wright, Wu, Xu, Yamamoto, Yang, Yoon, Young, Zhang, Zhao, Zhou, Zhu
    """
)

STREETS: tuple[str, ...] = (
    "Maple Avenue",
    "College Street",
    "University Boulevard",
    "Elm Street",
    "Library Lane",
    "Oak Drive",
    "Harbour Road",
    "Chestnut Street",
    "Riverside Drive",
    "Park Place",
    "Mill Road",
    "Observatory Way",
    "Hillcrest Road",
    "Station Street",
    "Cedar Court",
)

CITIES: tuple[tuple[str, str, str], ...] = (
    # (city, state or province, postal code prefix)
    ("Springfield", "IL", "627"),
    ("Riverton", "NJ", "080"),
    ("Fairview", "OR", "970"),
    ("Lakewood", "CO", "802"),
    ("Greenville", "NC", "278"),
    ("Madison", "WI", "537"),
)


def ascii_slug(text: str) -> str:
    """Lower-case ASCII letters and digits only: "Ó Briain" → "obriain" (for IDs and emails)."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    plain = plain.replace("ł", "l").replace("ø", "o").replace("đ", "d")
    return "".join(ch for ch in plain if ch.isascii() and ch.isalnum())
