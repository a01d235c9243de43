"""The HTTP shelf both services (hub and gateway) use: errors, middleware, body limits, pollers."""
