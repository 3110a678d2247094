-- A legacy table and a read-only account that may replicate (log capture), as a DBA would set it up.
CREATE TABLE inspections (
  brg_id       char(10) PRIMARY KEY,
  next_insp_dt integer NOT NULL DEFAULT 0,
  code_sts     char(1),
  amt          numeric(12, 2)
);
INSERT INTO inspections VALUES ('B-0001', 20250115, 'A', 1200.50), ('B-0002', 0, 'I', NULL);
CREATE PUBLICATION hms_sync FOR TABLE inspections;
\set reader_password `echo "$FHWA_PASSWORD"`
CREATE ROLE hms_reader LOGIN REPLICATION PASSWORD :'reader_password';
GRANT SELECT ON inspections TO hms_reader;
