//! The soak's request mix: every task on images and videos, over REST and gRPC, with weights; and
//! how each arrival behaves (runs to its answer, is dropped early, or carries a short deadline).

use std::{path::Path, time::Duration};

use mplug2_bench::call::{Call, QUESTION, Task};
use mplug2_e2e_tests::{Server, media::TestMedia};
use rand::Rng;

pub struct Item {
    /// "task medium protocol", e.g. "caption frames grpc".
    pub name: String,
    pub task: Task,
    pub call: Call,
    pub weight: u32,
}

/// How one request behaves on the client side.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Behaviour {
    /// Waits for its answer: it must succeed.
    Normal,
    /// Dropped after `cancel_after` (if not answered by then).
    Cancel,
    /// Sends a deadline shorter than most answers take.
    ShortDeadline,
}

/// Shares of cancelling and short-deadline arrivals; the rest are normal.
pub const CANCEL_SHARE: f64 = 0.1;
pub const SHORT_DEADLINE_SHARE: f64 = 0.1;

pub struct Arrival {
    pub item: usize,
    pub behaviour: Behaviour,
    /// When a `Cancel` request is dropped, or the deadline a `ShortDeadline` request sends.
    pub after: Duration,
}

pub struct Mix {
    pub items: Vec<Item>,
}

fn read(path: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))
}

fn frames(dir: &Path) -> Result<Vec<Vec<u8>>, String> {
    let mut paths: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "png"))
        .collect();
    paths.sort();
    paths.iter().map(|p| read(p)).collect()
}

impl Mix {
    /// The demo goldens' inputs (an image, a JPEG, a frame list) and the test MP4.
    pub async fn new(root: &Path, server: &Server) -> Result<Mix, String> {
        let inputs = root.join("models/demo/goldens/inputs");
        let image = TestMedia::Image(read(&inputs.join("image_480x270.png"))?);
        let jpeg = TestMedia::Image(read(&inputs.join("jpeg_160x120.jpg"))?);
        let frames = TestMedia::Frames(frames(&inputs.join("frames_7"))?);
        let video = TestMedia::Video(read(&root.join("tests/fixtures/frames_20.mp4"))?);
        let http = mplug2_e2e_tests::http_client::http_client();
        let base = server.url("");
        let grpc = server.grpc_client().await;
        let rest = |task, media: &TestMedia| Call::rest(&http, &base, task, media, QUESTION);
        let rpc = |task, media: &TestMedia| Call::grpc(grpc.clone(), task, media, QUESTION);
        let items = [
            ("image rest", Task::Caption, rest(Task::Caption, &image), 3),
            ("frames grpc", Task::Caption, rpc(Task::Caption, &frames), 1),
            ("image grpc", Task::Vqa, rpc(Task::Vqa, &image), 3),
            ("video rest", Task::Vqa, rest(Task::Vqa, &video), 1),
            ("rest", Task::EmbedText, rest(Task::EmbedText, &image), 3),
            (
                "jpeg grpc",
                Task::EmbedImage,
                rpc(Task::EmbedImage, &jpeg),
                2,
            ),
            ("image rest", Task::Match, rest(Task::Match, &image), 2),
            ("frames grpc", Task::Match, rpc(Task::Match, &frames), 1),
            ("image grpc", Task::Classify, rpc(Task::Classify, &image), 2),
            (
                "video rest",
                Task::Classify,
                rest(Task::Classify, &video),
                1,
            ),
        ];
        Ok(Mix {
            items: items
                .into_iter()
                .map(|(medium, task, call, weight)| Item {
                    name: format!("{} {medium}", task.name()),
                    task,
                    call,
                    weight,
                })
                .collect(),
        })
    }

    /// A weighted random item.
    pub fn pick(&self, rng: &mut impl Rng) -> usize {
        let total: u32 = self.items.iter().map(|i| i.weight).sum();
        let mut at = rng.random_range(0..total.max(1));
        for (index, item) in self.items.iter().enumerate() {
            if at < item.weight {
                return index;
            }
            at -= item.weight;
        }
        0
    }

    /// The next arrival: an item and its behaviour. Cancels fall between 20 and 400 ms, short
    /// deadlines between 5 and 150 ms (below most answers of the mix, above some).
    pub fn arrival(&self, rng: &mut impl Rng) -> Arrival {
        let item = self.pick(rng);
        let draw: f64 = rng.random();
        let (behaviour, range) = if draw < CANCEL_SHARE {
            (Behaviour::Cancel, 20..400)
        } else if draw < CANCEL_SHARE + SHORT_DEADLINE_SHARE {
            (Behaviour::ShortDeadline, 5..150)
        } else {
            (Behaviour::Normal, 0..1)
        };
        Arrival {
            item,
            behaviour,
            after: Duration::from_millis(rng.random_range(range)),
        }
    }
}
