"""The warehouse's shape and its batch writes, as pure domain code (SQLAlchemy Core, no Dagster).

`tables` names every warehouse table and its columns (the one place to rename a table); `sql` holds the Core
helpers that read, delete and append rows inside a caller's connection; `batches` commits one upload batch
(rows, ledger rows, commit record) and archives a batch's extraction before it is replaced.
"""
