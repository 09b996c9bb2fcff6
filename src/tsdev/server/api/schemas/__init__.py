"""Request and response schemas of the API, one module per resource.

They are what ``/openapi.json`` describes, so every field carries a description; the query layer's
dataclasses are converted here, keeping the wire format independent of storage details."""
