-- Every value is written by one pipeline (src/store/values), by COPY into `value_batches`; the
-- row-by-row writer through the `metric_values` view is gone, and with it the view's INSTEAD OF
-- trigger. The view stays, for reading.
DROP TRIGGER metric_values_insert ON metric_values;
DROP FUNCTION metric_values_insert();

-- The key of a value, (quarter, organisation, metric, revision), is unique: a batch may not
-- repeat a key, nor hold a key another batch holds. A batch keeps its metrics in arrays, which
-- no index can hold unique, so a statement trigger checks every (quarter, organisation) that a
-- statement wrote, with the rows it wrote included. It first takes the writers' lock (the
-- advisory lock every writer of the store holds until its transaction ends): a writer that did
-- not hold it waits here for any other to commit, and then sees what that one wrote.
CREATE FUNCTION value_batches_unique_keys() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    clash record;
BEGIN
    PERFORM pg_advisory_xact_lock(7243001);
    SELECT b.period_index, b.org_code, u.metric_id, u.revision INTO clash
    FROM value_batches b, unnest(b.metric_ids, b.revisions) AS u (metric_id, revision)
    WHERE (b.period_index, b.org_code) IN (SELECT DISTINCT n.period_index, n.org_code FROM new_batches n)
    GROUP BY b.period_index, b.org_code, u.metric_id, u.revision
    HAVING count(*) > 1
    LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'duplicate value key: quarter index %, organisation %, metric %, revision %',
            clash.period_index, clash.org_code, clash.metric_id, clash.revision
            USING ERRCODE = 'unique_violation';
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER value_batches_unique_keys_insert AFTER INSERT ON value_batches
    REFERENCING NEW TABLE AS new_batches FOR EACH STATEMENT EXECUTE FUNCTION value_batches_unique_keys();
CREATE TRIGGER value_batches_unique_keys_update AFTER UPDATE ON value_batches
    REFERENCING NEW TABLE AS new_batches FOR EACH STATEMENT EXECUTE FUNCTION value_batches_unique_keys();
