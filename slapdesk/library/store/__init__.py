"""The library's SQLite file: connections, schema and migrations, where it lives, what it holds.

Owns every table and the SQL that reads rows for listing, and ``atomic_files``: the one way
the app replaces a file it must not leave half-written (it sits at the bottom so that every
package may use it). Imports only the standard library, sqlite-utils and platformdirs; every
other library package reaches the database through here.
"""
