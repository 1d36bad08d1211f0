"""Small helpers shared by the API modules: shaping answers."""


def items(objects, serialise, **extra):
    return {"items": [serialise(obj) for obj in objects], **extra}
