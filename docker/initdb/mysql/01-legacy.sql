-- A legacy table in the `permits` database (created by MYSQL_DATABASE).
CREATE TABLE permits.permits (
  permit_no char(12) PRIMARY KEY,
  issued_dt int NOT NULL DEFAULT 0,
  status_cd char(1)
);
INSERT INTO permits.permits VALUES ('P-000001', 20240301, 'O'), ('P-000002', 0, 'C');
