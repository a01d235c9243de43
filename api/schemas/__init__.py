"""The hub's HTTP contract: the typed body of every ``/v1`` response (``…Public`` models).

Routes declare these as their response models, so ``/openapi.json`` documents
every 2xx body; the hub's console pages and the agency gateway read responses
through the same models instead of re-reading dicts. They live outside
``api.hub`` because the gateway may not import the hub (an import contract):
this package imports nothing of either service. One module per domain.
"""
