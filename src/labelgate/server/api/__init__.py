"""HTTP routers, one per resource. They parse and render; services decide."""
