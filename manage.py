#!/usr/bin/env python
from patronage.__main__ import main

if __name__ == "__main__":
    main()
