"""HTTP for the routes in app.py: access checks (`access`), request parsing and the error
mapping (`http`), request models (`api_models`), path templates and link parameters
(`routes`), signed staff links (`links`), and the pages behind email links (`link_pages`,
rendered by `pages`).

May import: domain, services, chalice. Never adapters: they come through `wiring`."""
