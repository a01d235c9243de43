"""The agency gateway (DESIGN §6): the part of Crosswalk that runs inside each agency.

It holds the program's linkage secret and the agency's schema, which the hub
never holds: it encodes a responder's plaintext query for the hub, passes the
hub's answers back unchanged, serves the responder page, and syncs the agency's
exports to the hub. It has no privilege of its own at the hub: every call
carries the signed-in user's own hub token. It talks to the hub over HTTP like
any client and imports none of the hub's code (an import contract checks it).
"""
