//! A small REST client over reqwest: JSON and multipart posts answering `(status, JSON)`.

use reqwest::{Client, multipart::Form};

use crate::http_client::{http_client, http_client_builder};
use serde_json::Value;

use crate::Server;

pub struct Rest {
    client: Client,
    base: String,
}

/// A status code and the JSON body (`Null` when the body is not JSON).
pub type Answer = (u16, Value);

impl Rest {
    pub fn new(server: &Server) -> Rest {
        Rest {
            client: http_client(),
            base: server.http.clone(),
        }
    }

    /// A client that opens a new connection per request (no keep-alive pool).
    pub fn fresh_connections(server: &Server) -> Rest {
        let client = http_client_builder()
            .pool_max_idle_per_host(0)
            .build()
            .expect("client");
        Rest {
            client,
            base: server.http.clone(),
        }
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn post(&self, path: &str, body: &Value) -> Answer {
        answer(
            self.client
                .post(self.url(path))
                .json(body)
                .send()
                .await
                .expect("request"),
        )
        .await
    }

    pub async fn post_form(&self, path: &str, form: Form) -> Answer {
        answer(
            self.client
                .post(self.url(path))
                .multipart(form)
                .send()
                .await
                .expect("request"),
        )
        .await
    }

    pub async fn get(&self, path: &str) -> (u16, String) {
        let response = self
            .client
            .get(self.url(path))
            .send()
            .await
            .expect("request");
        let status = response.status().as_u16();
        (status, response.text().await.expect("body"))
    }
}

async fn answer(response: reqwest::Response) -> Answer {
    let status = response.status().as_u16();
    let body = response.bytes().await.expect("body");
    (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
}

/// The floats of a JSON array.
pub fn floats(value: &Value) -> Vec<f32> {
    value
        .as_array()
        .expect("a JSON array")
        .iter()
        .map(|v| v.as_f64().expect("a number") as f32)
        .collect()
}
