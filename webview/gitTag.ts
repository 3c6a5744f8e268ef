// MLflow records the commit a run was trained from in this tag.
export const GIT_COMMIT_TAG_NAME = 'mlflow.source.git.commit';
