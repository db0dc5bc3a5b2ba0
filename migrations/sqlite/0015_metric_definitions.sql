-- Each metric's definition in the manner of Fingertips' indicator definitions: why it matters,
-- what its numerator and denominator count, where it comes from, how often, and its caveats.
-- Loaded from data/metric_definitions.csv, and brought up to date from it on every start.
ALTER TABLE metrics ADD COLUMN rationale TEXT NOT NULL DEFAULT '';
ALTER TABLE metrics ADD COLUMN numerator TEXT NOT NULL DEFAULT '';
ALTER TABLE metrics ADD COLUMN denominator TEXT NOT NULL DEFAULT '';
ALTER TABLE metrics ADD COLUMN source TEXT NOT NULL DEFAULT '';
ALTER TABLE metrics ADD COLUMN frequency TEXT NOT NULL DEFAULT '';
ALTER TABLE metrics ADD COLUMN caveats TEXT NOT NULL DEFAULT '';
