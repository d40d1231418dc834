"""The result providers' SFTP drop box, apart from the callers' channels.

- ``sftp``        the SFTP server (asyncssh): accounts, what a provider may do
- ``sftp_inbox``  the drop box on disk: upload, check, ingest into the results store
"""
