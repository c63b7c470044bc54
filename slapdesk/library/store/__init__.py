"""The library's SQLite file: connections, schema and migrations, where it lives, what it holds.

Owns every table and the SQL that reads rows for listing. Imports only the standard library,
sqlite-utils and platformdirs; every other library package reaches the database through here.
"""
