//! AWS clients, built once per process from the standard environment
//! (region, credentials, `AWS_ENDPOINT_URL_DYNAMODB` / `_SNS` overrides).

use aws_config::SdkConfig;

pub async fn sdk_config() -> SdkConfig {
    aws_config::load_from_env().await
}

pub fn dynamodb(config: &SdkConfig) -> aws_sdk_dynamodb::Client {
    aws_sdk_dynamodb::Client::new(config)
}

pub fn sns(config: &SdkConfig) -> aws_sdk_sns::Client {
    aws_sdk_sns::Client::new(config)
}
