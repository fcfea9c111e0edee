"""The analyst's side: queries over the task database, full-text search,
the calendar export and the Datasette web view. Reads the database only."""
