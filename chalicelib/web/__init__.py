"""HTTP for the routes in app.py: access checks (`access`), request parsing and the error
mapping (`http`), request models (`api_models`), path templates and link parameters
(`routes`), signed staff links (`links`), the pages behind email links (`link_pages`) and the
guest's booking page (`booking_pages`), in the shell `pages` gives every page.

May import: domain, services, chalice. Never adapters: they come through `wiring`."""
