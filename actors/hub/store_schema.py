"""The tables of the hub's SQLite store (actors/hub/store.py): JSON records keyed by name.

Each is created when missing, so a data folder from an older hub gains the tables it lacks.
The alert book keeps its own (actors/hub/alert_store.py).
"""

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS series (
    name TEXT PRIMARY KEY,
    config TEXT NOT NULL,
    runtime TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    ts REAL NOT NULL,
    level TEXT NOT NULL,
    kind TEXT NOT NULL,
    message TEXT NOT NULL,
    series TEXT
);
CREATE TABLE IF NOT EXISTS clients (
    client_id TEXT PRIMARY KEY,
    client_type TEXT NOT NULL,
    info TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS models (name TEXT PRIMARY KEY, state TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS outputs (
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (name, kind)
);
CREATE TABLE IF NOT EXISTS jobs (job_id TEXT PRIMARY KEY, record TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS count_journal (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    counts TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS patterns (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    pattern TEXT NOT NULL,
    template TEXT NOT NULL,
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS pattern_series (
    name TEXT PRIMARY KEY,
    pattern_id INTEGER NOT NULL,
    missing_since REAL
);
CREATE TABLE IF NOT EXISTS pattern_exclusions (
    name TEXT PRIMARY KEY,
    pattern_id INTEGER NOT NULL,
    since REAL NOT NULL
);
"""
