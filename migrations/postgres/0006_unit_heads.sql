-- A department's head (负责人): the user who scores and signs its staff in
-- the appraisal cycle, as a store's manager does for a store. Without one,
-- operations scores the department.
ALTER TABLE department ADD COLUMN head TEXT;
