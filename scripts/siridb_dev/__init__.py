"""SiriDB-compatible development server: the client protocol, queries and the tee.

Start it with ``enodo-siridb-dev --port 0 --dbname dbtest`` (prints ``READY port=N``)
or, in tests, with ``scripts.siridb_dev.testing.DevServer``.  Replies follow a real
SiriDB 2.0.55 byte for byte (see shared/SIRIDB.md and shared/data/siridb_vectors.json).

Modules: framing (header, package types), wire (SiriDB-style QPack output), insert
(insert validation), coerce (series type conversion), storage / persist (memory and
SQLite), parsing / grammar / statements (query syntax), timeexpr, matching, aggregate,
select, query (statement execution), tee (forwarding to a listener), service (type 32
requests), server (asyncio connections), main (command line), testing (DevServer).
"""
