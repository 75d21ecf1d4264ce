//! In-process fake Entrata, Brivo and OfficeRnD servers for examples and end-to-end tests.
