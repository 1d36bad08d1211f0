"""One Redis connection pool per app, created on first use (only when REDIS_URL is set)."""
import redis
from flask import current_app


def get_redis():
    url = current_app.config.get("REDIS_URL")
    if not url:
        return None
    client = current_app.extensions.get("portal_redis")
    if client is None:
        client = current_app.extensions["portal_redis"] = redis.Redis.from_url(url)
    return client
