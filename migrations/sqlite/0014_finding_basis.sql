-- What a finding was based on: the quarter it looked at and the figures then shown (a release
-- id such as "2026-Q3.1", or "data version 42" for provisional figures). Empty for findings
-- recorded before this was kept.
ALTER TABLE findings ADD COLUMN period TEXT NOT NULL DEFAULT '';
ALTER TABLE findings ADD COLUMN based_on TEXT NOT NULL DEFAULT '';
