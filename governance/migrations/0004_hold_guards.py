"""Database guards for legal holds and the audit log: the last line of defence behind the services.

- A row of governance_answerrecord, _answerclaim or _answercitation covered by an active legal hold cannot be
  updated or deleted by any path (ORM, admin, raw SQL). The scope test is `governance_answer_held`, the SQL
  twin of `governance.holds.answers_held` (keep the two identical).
- One update stays allowed under a hold: sealing a record in the transaction that creates it (setting
  content_hash and record_hash on a row whose record_hash is still empty, nothing else changed).
- TRUNCATE of those tables, or of the holds themselves, is refused while any hold is active.
- A legal hold is never deleted; an active hold may only be released; a released hold never changes again.
- Audit events are append-only. A retention purge may delete them inside a transaction that set
  `governance.purging` to 'on' (SET LOCAL); referential clean-up (a deleted tenant or user set to NULL) is
  allowed, nothing else. Held answer records stay protected whatever `governance.purging` says.

Errors are raised with SQLSTATE 23001 (restrict_violation), so Django raises IntegrityError.
"""

from django.db import migrations

HELD = """
CREATE OR REPLACE FUNCTION governance_answer_held(a governance_answerrecord) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT EXISTS (
        SELECT 1 FROM governance_legalhold h
        WHERE h.released_at IS NULL
          AND h.tenant_id = a.tenant_id
          AND (h.customer_group_id IS NULL OR h.customer_group_id = a.customer_group_id)
          AND (h.api_key_id IS NULL OR h.api_key_id = a.api_key_id)
          AND (h.date_from IS NULL OR h.date_from <= a.created_at)
          AND (h.date_to IS NULL OR h.date_to >= a.created_at)
          AND (h.text_query = ''
               OR strpos(lower(a.question), lower(h.text_query)) > 0
               OR strpos(lower(a.answer), lower(h.text_query)) > 0)
    )
$$;
"""

RECORD_GUARD = """
CREATE OR REPLACE FUNCTION governance_answerrecord_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.record_hash = '' AND NEW.record_hash <> ''
       AND (to_jsonb(NEW) - 'content_hash' - 'record_hash') = (to_jsonb(OLD) - 'content_hash' - 'record_hash') THEN
        RETURN NEW;  -- sealing the record in the transaction that creates it
    END IF;
    IF governance_answer_held(OLD) THEN
        RAISE EXCEPTION 'answer record % is under an active legal hold: it cannot be changed or deleted', OLD.id
            USING ERRCODE = 'restrict_violation', HINT = 'A compliance officer must release the hold first.';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER governance_answerrecord_hold
    BEFORE UPDATE OR DELETE ON governance_answerrecord
    FOR EACH ROW EXECUTE FUNCTION governance_answerrecord_guard();
"""

# Claims and citations belong to their answer: held with it. A sealed, held answer gets no new parts either.
PART_GUARD = """
CREATE OR REPLACE FUNCTION governance_answerpart_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    answer_ids uuid[];
BEGIN
    IF TG_OP = 'INSERT' THEN
        answer_ids := ARRAY[NEW.answer_id];
    ELSIF TG_OP = 'UPDATE' THEN
        answer_ids := ARRAY[OLD.answer_id, NEW.answer_id];
    ELSE
        answer_ids := ARRAY[OLD.answer_id];
    END IF;
    IF EXISTS (
        SELECT 1 FROM governance_answerrecord a
        WHERE a.id = ANY(answer_ids) AND (TG_OP <> 'INSERT' OR a.record_hash <> '') AND governance_answer_held(a)
    ) THEN
        RAISE EXCEPTION 'the answer of this % row is under an active legal hold: it cannot be changed or deleted',
            TG_TABLE_NAME
            USING ERRCODE = 'restrict_violation', HINT = 'A compliance officer must release the hold first.';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER governance_answerclaim_hold
    BEFORE INSERT OR UPDATE OR DELETE ON governance_answerclaim
    FOR EACH ROW EXECUTE FUNCTION governance_answerpart_guard();
CREATE TRIGGER governance_answercitation_hold
    BEFORE INSERT OR UPDATE OR DELETE ON governance_answercitation
    FOR EACH ROW EXECUTE FUNCTION governance_answerpart_guard();
"""

TRUNCATE_GUARD = """
CREATE OR REPLACE FUNCTION governance_truncate_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM governance_legalhold WHERE released_at IS NULL) THEN
        RAISE EXCEPTION 'cannot truncate %: a legal hold is active', TG_TABLE_NAME
            USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER governance_answerrecord_truncate BEFORE TRUNCATE ON governance_answerrecord
    FOR EACH STATEMENT EXECUTE FUNCTION governance_truncate_guard();
CREATE TRIGGER governance_answerclaim_truncate BEFORE TRUNCATE ON governance_answerclaim
    FOR EACH STATEMENT EXECUTE FUNCTION governance_truncate_guard();
CREATE TRIGGER governance_answercitation_truncate BEFORE TRUNCATE ON governance_answercitation
    FOR EACH STATEMENT EXECUTE FUNCTION governance_truncate_guard();
CREATE TRIGGER governance_legalhold_truncate BEFORE TRUNCATE ON governance_legalhold
    FOR EACH STATEMENT EXECUTE FUNCTION governance_truncate_guard();
"""

HOLD_GUARD = """
CREATE OR REPLACE FUNCTION governance_legalhold_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'legal hold % cannot be deleted; release it instead', OLD.id
            USING ERRCODE = 'restrict_violation';
    END IF;
    IF OLD.released_at IS NOT NULL THEN
        RAISE EXCEPTION 'legal hold % was released: it cannot be changed or reactivated', OLD.id
            USING ERRCODE = 'restrict_violation';
    END IF;
    IF NEW.released_at IS NULL OR NEW.released_by_id IS NULL
       OR (to_jsonb(NEW) - 'released_at' - 'released_by_id' - 'release_reason')
          <> (to_jsonb(OLD) - 'released_at' - 'released_by_id' - 'release_reason') THEN
        RAISE EXCEPTION 'legal hold % is active: it can only be released', OLD.id
            USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER governance_legalhold_guard
    BEFORE UPDATE OR DELETE ON governance_legalhold
    FOR EACH ROW EXECUTE FUNCTION governance_legalhold_guard();
"""

# TRUNCATE of the audit log is not guarded: test databases are flushed with TRUNCATE. In production the
# application role should not hold the TRUNCATE privilege (see README).
AUDIT_GUARD = """
CREATE OR REPLACE FUNCTION governance_auditevent_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND current_setting('governance.purging', true) = 'on' THEN
        RETURN OLD;
    END IF;
    IF TG_OP = 'UPDATE'
       AND (to_jsonb(NEW) - 'tenant_id' - 'actor_id') = (to_jsonb(OLD) - 'tenant_id' - 'actor_id')
       AND (NEW.tenant_id IS NULL OR NEW.tenant_id = OLD.tenant_id)
       AND (NEW.actor_id IS NULL OR NEW.actor_id = OLD.actor_id) THEN
        RETURN NEW;  -- a deleted tenant or user: the foreign key is set to NULL, the event stays
    END IF;
    RAISE EXCEPTION 'audit events are append-only (% refused)', TG_OP
        USING ERRCODE = 'restrict_violation';
END
$$;
CREATE TRIGGER governance_auditevent_append_only
    BEFORE UPDATE OR DELETE ON governance_auditevent
    FOR EACH ROW EXECUTE FUNCTION governance_auditevent_guard();
"""

DROP = """
DROP TRIGGER IF EXISTS governance_auditevent_append_only ON governance_auditevent;
DROP TRIGGER IF EXISTS governance_legalhold_guard ON governance_legalhold;
DROP TRIGGER IF EXISTS governance_legalhold_truncate ON governance_legalhold;
DROP TRIGGER IF EXISTS governance_answercitation_truncate ON governance_answercitation;
DROP TRIGGER IF EXISTS governance_answerclaim_truncate ON governance_answerclaim;
DROP TRIGGER IF EXISTS governance_answerrecord_truncate ON governance_answerrecord;
DROP TRIGGER IF EXISTS governance_answercitation_hold ON governance_answercitation;
DROP TRIGGER IF EXISTS governance_answerclaim_hold ON governance_answerclaim;
DROP TRIGGER IF EXISTS governance_answerrecord_hold ON governance_answerrecord;
DROP FUNCTION IF EXISTS governance_auditevent_guard();
DROP FUNCTION IF EXISTS governance_legalhold_guard();
DROP FUNCTION IF EXISTS governance_truncate_guard();
DROP FUNCTION IF EXISTS governance_answerpart_guard();
DROP FUNCTION IF EXISTS governance_answerrecord_guard();
DROP FUNCTION IF EXISTS governance_answer_held(governance_answerrecord);
"""


class Migration(migrations.Migration):
    dependencies = [("governance", "0003_retention_holds_audit_pii_rate_plans")]

    operations = [
        migrations.RunSQL(HELD + RECORD_GUARD + PART_GUARD + TRUNCATE_GUARD + HOLD_GUARD + AUDIT_GUARD, DROP),
    ]
