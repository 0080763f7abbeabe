"""Putting it together: typed settings from the stage's environment (`config`), the lazily
built clients and services (`bootstrap`), and the event-source settings Chalice's decorators
cannot express (`event_sources`, the single source for deploy, packaging and the local
runtime). May import anything in chalicelib."""
