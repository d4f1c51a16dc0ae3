# The MLflow server of deploy/compose.yaml: the official image plus the PostgreSQL and S3
# clients it needs (same pins as asrloop's `team` extra).
FROM ghcr.io/mlflow/mlflow:v3.17.2
RUN pip install --no-cache-dir "psycopg[binary]==3.3.9" "boto3==1.43.117"
