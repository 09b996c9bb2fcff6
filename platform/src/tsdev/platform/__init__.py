"""Deploy pipeline and the predictive autoscaler for Kubernetes will live here."""
