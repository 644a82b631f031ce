"""The API machinery every app shares: Collection+JSON rendering and parsing, declarative document links,
queries and templates (CJViewMixin), pagination, content negotiation and the error handler."""
