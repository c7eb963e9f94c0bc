"""NTU COOL (Canvas) by API: ``hw10 fetch`` downloads the quiz export, ``hw10 upload`` posts the grades."""
