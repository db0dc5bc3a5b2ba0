-- The integrated care board each trust lies in (its ODS code, such as QWO; the list of 42 is
-- data/icbs.csv). Filled from the trust list on the next start (docs/RULES.md §2.2).
ALTER TABLE organisations ADD COLUMN icb TEXT NOT NULL DEFAULT '';
