"""The API's routers: conversations, messages, documents (under /api/v1) and health."""
