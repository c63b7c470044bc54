"""Search the library: the query language, the in-memory vector index and the fused ranking.

Owns parsing the search box, loading stored vectors into an exact top-k index, and ranking by
sound fused with metadata full-text matches. Imports `store` only; never `tags` or Qt.
"""
