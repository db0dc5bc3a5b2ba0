-- Every value is written by one pipeline (src/store/values), by COPY into `value_batches`; the
-- row-by-row writer through the `metric_values` view is gone, and with it the view's INSTEAD OF
-- trigger. The view stays, for reading.
DROP TRIGGER metric_values_insert ON metric_values;
DROP FUNCTION metric_values_insert();

-- The key of a value, (quarter, organisation, metric, revision), is unique. A batch keeps its
-- metrics in arrays, which no index can hold unique, so statement triggers check what each
-- statement wrote: that a batch holds each metric once (a submission writes a key once), and, for
-- every (quarter, organisation) that now has more than one batch, that no (metric, revision) is
-- held twice among its batches. The checks first take the writers' lock (the advisory lock every
-- writer of the store holds until its transaction ends): a writer that did not hold it waits
-- here for any other to commit, and then sees what that one wrote. Checking only the keys with
-- several batches keeps the cost of a first import to the one pass over each new batch's
-- metrics (BENCHMARKS.md, "One value path").
CREATE FUNCTION value_batches_unique_keys() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    clash record;
BEGIN
    PERFORM pg_advisory_xact_lock(7243001);
    SELECT n.period_index, n.org_code INTO clash
    FROM new_batches n
    WHERE cardinality(n.metric_ids) <> cardinality(ARRAY(SELECT DISTINCT unnest(n.metric_ids)))
    LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'a batch holds a metric twice: quarter index %, organisation %', clash.period_index, clash.org_code
            USING ERRCODE = 'unique_violation';
    END IF;
    SELECT b.period_index, b.org_code, u.metric_id, u.revision INTO clash
    FROM value_batches b, unnest(b.metric_ids, b.revisions) AS u (metric_id, revision)
    WHERE (b.period_index, b.org_code) IN (
        SELECT o.period_index, o.org_code
        FROM value_batches o JOIN (SELECT DISTINCT period_index, org_code FROM new_batches) k
            ON o.period_index = k.period_index AND o.org_code = k.org_code
        GROUP BY o.period_index, o.org_code
        HAVING count(*) > 1)
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
