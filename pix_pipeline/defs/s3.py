"""dagster-aws' S3Resource for R2; imported only where PIX_S3_BUCKET is set.

dagster-aws and boto3 take about 0.3 s to import. Every Dagster process on the local backend
(code server, daemon, each run step) would pay it for nothing.
"""

from typing import Any

from dagster_aws.s3 import S3Resource

from pix_pipeline.storage.s3 import make_s3_client


class R2S3Resource(S3Resource):
    """dagster-aws' S3Resource whose client sends checksums only where S3 requires them (R2)."""

    def get_client(self) -> Any:
        return make_s3_client(
            endpoint_url=self.endpoint_url,
            region_name=self.region_name,
            max_attempts=self.max_attempts,
            profile_name=self.profile_name,
            use_ssl=self.use_ssl,
            verify=self.verify,
            aws_access_key_id=self.aws_access_key_id,
            aws_secret_access_key=self.aws_secret_access_key,
            aws_session_token=self.aws_session_token,
        )
