DROP TABLE comments;
DROP TABLE dependencies;
DROP TABLE tasks;
