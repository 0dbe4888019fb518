"""HTTP: parse the request, call a workflow, shape the response."""
