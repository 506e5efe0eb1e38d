use super::*;

/// A package as selection sees it.
struct Fake {
    name: &'static str,
    finetuned_for: Option<&'static str>,
    tasks: &'static [Task],
}

impl Servable for Fake {
    fn name(&self) -> &str {
        self.name
    }

    fn finetuned_for(&self) -> Option<&str> {
        self.finetuned_for
    }

    fn serves(&self, task: Task) -> bool {
        self.tasks.contains(&task)
    }
}

const GENERATING: &[Task] = &[Task::Caption, Task::Vqa];
const ALL: &[Task] = &[
    Task::Caption,
    Task::Vqa,
    Task::EmbedImage,
    Task::EmbedText,
    Task::Match,
];

/// The three released jobs: QA and caption packages (no ITC/ITM heads), the pre-trained one.
fn released(default: Option<&str>) -> Models<Fake> {
    let packages = vec![
        Fake {
            name: "qa",
            finetuned_for: Some("vqa"),
            tasks: GENERATING,
        },
        Fake {
            name: "caption",
            finetuned_for: Some("caption"),
            tasks: GENERATING,
        },
        Fake {
            name: "pretrain",
            finetuned_for: None,
            tasks: ALL,
        },
    ];
    Models::new(packages, default).unwrap()
}

fn chosen(models: &Models<Fake>, model: Option<&str>, tasks: &[Task]) -> &'static str {
    models.select(model, tasks).unwrap().name
}

#[test]
fn a_task_goes_to_the_package_fine_tuned_for_it_then_the_default_then_the_first() {
    let models = released(None);
    assert_eq!(chosen(&models, None, &[Task::Vqa]), "qa");
    assert_eq!(chosen(&models, None, &[Task::Caption]), "caption");
    // Nobody is fine-tuned for embeddings: the first that serves them.
    assert_eq!(chosen(&models, None, &[Task::EmbedImage]), "pretrain");
    // A request needing two tasks goes where both are served.
    assert_eq!(
        chosen(&models, None, &[Task::EmbedImage, Task::EmbedText]),
        "pretrain"
    );
    // The default answers what nobody is fine-tuned for, never over a fine-tuned package.
    let models = Models::new(
        vec![
            Fake {
                name: "a",
                finetuned_for: None,
                tasks: ALL,
            },
            Fake {
                name: "b",
                finetuned_for: Some("vqa"),
                tasks: ALL,
            },
        ],
        Some("a"),
    )
    .unwrap();
    assert_eq!(chosen(&models, None, &[Task::Match]), "a");
    assert_eq!(chosen(&models, None, &[Task::Vqa]), "b");
    let models = released(Some("caption"));
    assert_eq!(chosen(&models, None, &[Task::Vqa]), "qa");
    assert_eq!(chosen(&models, None, &[Task::Match]), "pretrain");
}

#[test]
fn a_named_model_wins_and_a_wrong_name_lists_the_models() {
    let models = released(None);
    assert_eq!(chosen(&models, Some("caption"), &[Task::Vqa]), "caption");
    assert_eq!(
        models
            .select(Some("gpt-4o"), &[Task::Vqa])
            .err()
            .unwrap()
            .to_string(),
        "no model `gpt-4o` is served; the models are: qa, caption, pretrain"
    );
    assert_eq!(
        models
            .select(Some("qa"), &[Task::Match])
            .err()
            .unwrap()
            .to_string(),
        "model `qa` does not serve match; the models that do: pretrain"
    );
    let generating_only = Models::new(
        vec![Fake {
            name: "qa",
            finetuned_for: Some("vqa"),
            tasks: GENERATING,
        }],
        None,
    )
    .unwrap();
    assert_eq!(
        generating_only
            .select(None, &[Task::Classify])
            .err()
            .unwrap(),
        SelectError::NoneServes {
            task: Task::Classify
        }
    );
    assert!(matches!(
        Models::new(
            vec![Fake {
                name: "qa",
                finetuned_for: None,
                tasks: ALL,
            }],
            Some("nope"),
        ),
        Err(SelectError::Unknown { .. })
    ));
}
