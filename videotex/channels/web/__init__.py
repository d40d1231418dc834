"""The browser Minitel served by the ``ws`` listener (static files) and its font generator."""
