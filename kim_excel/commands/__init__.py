"""One module per command: settle, send, plan, notice, watch. Ties the stages below."""
