//! Which queued items form the next batch: the oldest item's group (vision: its frame count),
//! in arrival order, up to the size limit and the cost budget. Pure, so it is tested alone.

/// What the planner needs to know about one queued item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ItemShape {
    /// Items share a batch only within one group.
    pub group: u64,
    /// Cost in the module's unit (tokens, beams).
    pub cost: u64,
}

/// How a module's batch cost grows with its items.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CostRule {
    /// The batch costs the sum of its items.
    Sum,
    /// Items are padded to the longest one: the batch costs longest × items.
    Padded,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchLimits {
    pub max_size: usize,
    pub max_cost: Option<u64>,
    pub cost_rule: CostRule,
}

/// The next batch: indices into the queue, and whether it is full (no further item could join).
#[derive(Debug, PartialEq, Eq)]
pub struct BatchPlan {
    pub indices: Vec<usize>,
    pub full: bool,
}

impl BatchLimits {
    fn cost_of(&self, items: usize, total: u64, longest: u64) -> u64 {
        match self.cost_rule {
            CostRule::Sum => total,
            CostRule::Padded => longest.saturating_mul(items as u64),
        }
    }

    /// Plans the next batch from a queue in arrival order. An empty queue plans nothing; an item
    /// over the budget on its own still runs, alone.
    pub fn plan(&self, queue: impl IntoIterator<Item = ItemShape>) -> BatchPlan {
        let mut indices = Vec::new();
        let (mut total, mut longest) = (0u64, 0u64);
        let mut group = None;
        for (index, item) in queue.into_iter().enumerate() {
            if *group.get_or_insert(item.group) != item.group {
                continue;
            }
            let next_cost =
                self.cost_of(indices.len() + 1, total + item.cost, longest.max(item.cost));
            if !indices.is_empty() && self.max_cost.is_some_and(|budget| next_cost > budget) {
                return BatchPlan {
                    indices,
                    full: true,
                };
            }
            indices.push(index);
            total += item.cost;
            longest = longest.max(item.cost);
            if indices.len() >= self.max_size {
                return BatchPlan {
                    indices,
                    full: true,
                };
            }
        }
        BatchPlan {
            indices,
            full: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items(shapes: &[(u64, u64)]) -> Vec<ItemShape> {
        shapes
            .iter()
            .map(|&(group, cost)| ItemShape { group, cost })
            .collect()
    }

    fn limits(max_size: usize, max_cost: Option<u64>, cost_rule: CostRule) -> BatchLimits {
        BatchLimits {
            max_size,
            max_cost,
            cost_rule,
        }
    }

    #[test]
    fn closes_on_max_size() {
        let plan = limits(2, None, CostRule::Sum).plan(items(&[(0, 1), (0, 1), (0, 1)]));
        assert_eq!(
            plan,
            BatchPlan {
                indices: vec![0, 1],
                full: true
            }
        );
    }

    #[test]
    fn an_unfilled_batch_is_not_full() {
        let plan = limits(4, None, CostRule::Sum).plan(items(&[(0, 1), (0, 1)]));
        assert_eq!(
            plan,
            BatchPlan {
                indices: vec![0, 1],
                full: false
            }
        );
    }

    #[test]
    fn keeps_to_the_oldest_items_group() {
        let plan = limits(4, None, CostRule::Sum).plan(items(&[(16, 1), (1, 1), (16, 1), (1, 1)]));
        assert_eq!(plan.indices, vec![0, 2]);
    }

    #[test]
    fn closes_on_the_summed_budget() {
        let plan = limits(8, Some(10), CostRule::Sum).plan(items(&[(0, 4), (0, 4), (0, 4)]));
        assert_eq!(
            plan,
            BatchPlan {
                indices: vec![0, 1],
                full: true
            }
        );
    }

    #[test]
    fn padded_budget_counts_the_longest_item_per_slot() {
        // 3 + 9 = 12 fits a sum budget of 12, but padded it costs 9 × 2 = 18.
        let plan = limits(8, Some(12), CostRule::Padded).plan(items(&[(0, 3), (0, 9)]));
        assert_eq!(
            plan,
            BatchPlan {
                indices: vec![0],
                full: true
            }
        );
    }

    #[test]
    fn an_item_over_budget_runs_alone() {
        let plan = limits(8, Some(5), CostRule::Sum).plan(items(&[(0, 50), (0, 1)]));
        assert_eq!(
            plan,
            BatchPlan {
                indices: vec![0],
                full: true
            }
        );
    }

    #[test]
    fn empty_queue_plans_nothing() {
        let plan = limits(8, None, CostRule::Sum).plan(Vec::new());
        assert!(plan.indices.is_empty());
    }
}
