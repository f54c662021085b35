from django.db import migrations

# Archiving is the one sanctioned removal from the audit trail. The row triggers let a DELETE
# of events and links through only while the transaction-local setting
# patronage.audit_archive is 'on' -- which only audit_archive_prefix() sets, after checking
# that an anchor (written once the prefix was exported) ends exactly there, and resets before
# returning. UPDATE stays refused always; anchors can be neither changed nor removed.

CREATE = """
CREATE OR REPLACE FUNCTION audit_event_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' AND current_setting('patronage.audit_archive', true) = 'on' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'audit events are append-only (% refused)', TG_OP;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER audit_link_no_update_delete
    BEFORE UPDATE OR DELETE ON audit_auditlink
    FOR EACH ROW EXECUTE FUNCTION audit_event_append_only();

CREATE OR REPLACE FUNCTION audit_anchor_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit anchors are append-only (% refused)', TG_OP;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER audit_anchor_no_update_delete
    BEFORE UPDATE OR DELETE ON audit_auditanchor
    FOR EACH ROW EXECUTE FUNCTION audit_anchor_append_only();

CREATE OR REPLACE FUNCTION audit_archive_prefix(upto bigint) RETURNS bigint AS $$
DECLARE
    removed bigint;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM audit_auditanchor WHERE last_seq = upto) THEN
        RAISE EXCEPTION 'no audit anchor at link %: nothing is archived', upto;
    END IF;
    PERFORM set_config('patronage.audit_archive', 'on', true);
    DELETE FROM audit_auditevent
        WHERE id IN (SELECT event_id FROM audit_auditlink WHERE seq <= upto);
    GET DIAGNOSTICS removed = ROW_COUNT;
    DELETE FROM audit_auditlink WHERE seq <= upto;
    PERFORM set_config('patronage.audit_archive', 'off', true);
    RETURN removed;
END;
$$ LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp;
"""

DROP = """
DROP FUNCTION IF EXISTS audit_archive_prefix(bigint);
DROP TRIGGER IF EXISTS audit_anchor_no_update_delete ON audit_auditanchor;
DROP FUNCTION IF EXISTS audit_anchor_append_only();
DROP TRIGGER IF EXISTS audit_link_no_update_delete ON audit_auditlink;
CREATE OR REPLACE FUNCTION audit_event_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit events are append-only (% refused)', TG_OP;
END;
$$ LANGUAGE plpgsql;
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("audit", "0004_chain_and_subject_keys")]

    operations = [migrations.RunPython(forwards, backwards)]
