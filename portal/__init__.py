"""The repovizz2 portal: log in to repovizz2 and upload datapacks from a browser."""
