"""Programs that run inside the customer's network, not in fabrix: the post-deploy jobs.

fabrix ships them in the bundle and hands them to a Container Apps job (ACA) or a Kubernetes Job
(AKS). They use the Python standard library only (the job image has no fabrix and no pip), which
``tests/unit/test_registration_job.py`` checks.
"""
