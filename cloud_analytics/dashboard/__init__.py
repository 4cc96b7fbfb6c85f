"""The FinOps dashboard over the serving layer (Streamlit; reads Cassandra only)."""
