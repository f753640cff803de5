//! Property tests: random sequences of operations by several users, run against the engine on
//! the in-memory reference store, keep the invariants of DESIGN §2.

use std::collections::{HashMap, HashSet};

use proptest::prelude::*;
use tasklane_core::engine::{StatusInput, WorkflowInput};
use tasklane_core::query::{TaskFilter, TaskQuery, TaskScope, TaskSort};
use tasklane_core::testkit::Fixture;
use tasklane_core::{
    Actor, BulkAction, BulkRequest, BulkSet, Error, MemoryStore, NewComment, NewTask, Priority,
    Store, TaskId, TaskListRequest, TaskPatch, TaskRef,
};

#[derive(Clone, Debug)]
enum Op {
    Create {
        who: usize,
        parent: Option<usize>,
    },
    Transition {
        who: usize,
        task: usize,
        status: usize,
    },
    Prioritise {
        who: usize,
        task: usize,
        priority: usize,
    },
    Block {
        who: usize,
        task: usize,
        blocker: usize,
    },
    Unblock {
        who: usize,
        task: usize,
        blocker: usize,
    },
    Reparent {
        who: usize,
        task: usize,
        parent: Option<usize>,
    },
    Delete {
        who: usize,
        task: usize,
    },
    Restore {
        who: usize,
        task: usize,
    },
    Comment {
        who: usize,
        task: usize,
    },
    BulkTransition {
        who: usize,
        tasks: Vec<usize>,
        status: usize,
    },
    DropStatus {
        who: usize,
        status: usize,
        to: usize,
    },
    RecategoriseLast {
        who: usize,
        category: usize,
    },
}

fn op() -> impl Strategy<Value = Op> {
    let who =
        prop_oneof![3 => Just(0usize), 3 => Just(1usize), 1 => Just(2usize), 1 => Just(3usize)];
    let idx = 0usize..40;
    prop_oneof![
        10 => (who.clone(), proptest::option::of(idx.clone())).prop_map(|(who, parent)| Op::Create { who, parent }),
        4 => (who.clone(), idx.clone(), 0usize..8).prop_map(|(who, task, status)| Op::Transition { who, task, status }),
        1 => (who.clone(), idx.clone(), 0usize..5).prop_map(|(who, task, priority)| Op::Prioritise { who, task, priority }),
        3 => (who.clone(), idx.clone(), idx.clone()).prop_map(|(who, task, blocker)| Op::Block { who, task, blocker }),
        1 => (who.clone(), idx.clone(), idx.clone()).prop_map(|(who, task, blocker)| Op::Unblock { who, task, blocker }),
        2 => (who.clone(), idx.clone(), proptest::option::of(idx.clone())).prop_map(|(who, task, parent)| Op::Reparent { who, task, parent }),
        1 => (who.clone(), idx.clone()).prop_map(|(who, task)| Op::Delete { who, task }),
        1 => (who.clone(), idx.clone()).prop_map(|(who, task)| Op::Restore { who, task }),
        1 => (who.clone(), idx.clone()).prop_map(|(who, task)| Op::Comment { who, task }),
        1 => (who.clone(), proptest::collection::vec(idx.clone(), 1..5), 0usize..8).prop_map(|(who, tasks, status)| Op::BulkTransition { who, tasks, status }),
        1 => (who.clone(), 0usize..8, 0usize..8).prop_map(|(who, status, to)| Op::DropStatus { who, status, to }),
        1 => (who, 0usize..5).prop_map(|(who, category)| Op::RecategoriseLast { who, category }),
    ]
}

struct World {
    fx: Fixture<MemoryStore>,
    tasks: Vec<TaskId>,
    max_number: u64,
}

impl World {
    fn actor(&self, who: usize) -> Actor {
        [
            self.fx.owner,
            self.fx.member,
            self.fx.guest,
            self.fx.outsider,
        ][who]
    }

    fn task(&self, i: usize) -> Option<TaskRef> {
        if self.tasks.is_empty() {
            None
        } else {
            Some(TaskRef::Id(self.tasks[i % self.tasks.len()]))
        }
    }

    async fn status(&self, i: usize) -> tasklane_core::StatusId {
        let flow = self
            .fx
            .engine
            .store()
            .workflow(self.fx.project.id)
            .await
            .unwrap()
            .unwrap();
        flow.statuses[i % flow.statuses.len()].id
    }

    async fn apply(&mut self, op: &Op) -> Result<(), Error> {
        let engine = &self.fx.engine;
        let tasks = engine.tasks();
        let project = self.fx.project.id;
        match op {
            Op::Create { who, parent } => {
                let parent_id = parent.and_then(|p| self.task(p)).map(|r| match r {
                    TaskRef::Id(id) => id,
                    TaskRef::Key { .. } => unreachable!(),
                });
                let new = NewTask {
                    title: format!("task {}", self.tasks.len()),
                    parent_id,
                    ..NewTask::default()
                };
                let view = tasks.create(&self.actor(*who), project, new).await?;
                assert!(
                    view.task.number > self.max_number,
                    "numbers are never reused"
                );
                self.max_number = view.task.number;
                self.tasks.push(view.task.id);
            }
            Op::Transition { who, task, status } => {
                let Some(t) = self.task(*task) else {
                    return Ok(());
                };
                let s = self.status(*status).await;
                tasks.transition(&self.actor(*who), &t, s, None).await?;
            }
            Op::Prioritise {
                who,
                task,
                priority,
            } => {
                let Some(t) = self.task(*task) else {
                    return Ok(());
                };
                let patch = TaskPatch {
                    priority: Some(Priority::ALL[*priority]),
                    ..TaskPatch::default()
                };
                tasks.update(&self.actor(*who), &t, patch, None).await?;
            }
            Op::Block { who, task, blocker } => {
                let (Some(t), Some(b)) = (self.task(*task), self.task(*blocker)) else {
                    return Ok(());
                };
                tasks.add_dependency(&self.actor(*who), &t, &b).await?;
            }
            Op::Unblock { who, task, blocker } => {
                let (Some(t), Some(b)) = (self.task(*task), self.task(*blocker)) else {
                    return Ok(());
                };
                tasks
                    .remove_dependency(&self.actor(*who), &t, &b, None)
                    .await?;
            }
            Op::Reparent { who, task, parent } => {
                let Some(t) = self.task(*task) else {
                    return Ok(());
                };
                let parent = parent.and_then(|p| self.task(p)).map(|r| match r {
                    TaskRef::Id(id) => id,
                    TaskRef::Key { .. } => unreachable!(),
                });
                let patch = TaskPatch {
                    parent_id: Some(parent),
                    ..TaskPatch::default()
                };
                tasks.update(&self.actor(*who), &t, patch, None).await?;
            }
            Op::Delete { who, task } => {
                let Some(t) = self.task(*task) else {
                    return Ok(());
                };
                tasks.delete(&self.actor(*who), &t, None).await?;
            }
            Op::Restore { who, task } => {
                let Some(t) = self.task(*task) else {
                    return Ok(());
                };
                tasks.restore(&self.actor(*who), &t).await?;
            }
            Op::Comment { who, task } => {
                let Some(t) = self.task(*task) else {
                    return Ok(());
                };
                let new = NewComment {
                    body: "hello @miamember".into(),
                    parent_id: None,
                };
                engine.comments().create(&self.actor(*who), &t, new).await?;
            }
            Op::BulkTransition {
                who,
                tasks: list,
                status,
            } => {
                let mut ids: Vec<TaskRef> = list.iter().filter_map(|i| self.task(*i)).collect();
                ids.sort_by_key(|r| r.to_string());
                ids.dedup();
                if ids.is_empty() {
                    return Ok(());
                }
                let set = BulkSet {
                    status_id: Some(self.status(*status).await),
                    ..BulkSet::default()
                };
                let request = BulkRequest {
                    task_ids: ids,
                    action: BulkAction::Set(set),
                };
                tasks.bulk(&self.actor(*who), project, request).await?;
            }
            Op::DropStatus { who, status, to } => {
                let flow = engine.store().workflow(project).await.unwrap().unwrap();
                if flow.statuses.len() < 2 {
                    return Ok(());
                }
                let drop = flow.statuses[status % flow.statuses.len()].id;
                let keep: Vec<_> = flow.statuses.iter().filter(|s| s.id != drop).collect();
                let target = keep[to % keep.len()].id;
                let input = WorkflowInput {
                    statuses: keep
                        .iter()
                        .map(|s| StatusInput {
                            id: Some(s.id),
                            name: s.name.clone(),
                            category: s.category,
                            color: None,
                        })
                        .collect(),
                    transitions: None,
                    mapping: vec![(drop, target.to_string())],
                };
                engine
                    .workflows()
                    .replace(&self.actor(*who), project, input, None)
                    .await?;
            }
            Op::RecategoriseLast { who, category } => {
                let flow = engine.store().workflow(project).await.unwrap().unwrap();
                let mut statuses: Vec<StatusInput> = flow
                    .statuses
                    .iter()
                    .map(|s| StatusInput {
                        id: Some(s.id),
                        name: s.name.clone(),
                        category: s.category,
                        color: None,
                    })
                    .collect();
                if let Some(last) = statuses.last_mut() {
                    last.category = tasklane_core::StatusCategory::ALL[*category];
                }
                statuses.push(StatusInput {
                    id: None,
                    name: format!("Extra {}", flow.version),
                    category: tasklane_core::StatusCategory::Started,
                    color: None,
                });
                let input = WorkflowInput {
                    statuses,
                    transitions: None,
                    mapping: vec![],
                };
                engine
                    .workflows()
                    .replace(&self.actor(*who), project, input, None)
                    .await?;
            }
        }
        Ok(())
    }

    async fn check_invariants(&self) {
        let store = self.fx.engine.store();
        let project = self.fx.project.id;
        let flow = store.workflow(project).await.unwrap().unwrap();
        let mut all = Vec::new();
        for trashed in [false, true] {
            all.extend(
                store
                    .tasks(&TaskQuery {
                        scope: TaskScope::Project(project),
                        filter: TaskFilter::True,
                        sort: TaskSort::default(),
                        after: None,
                        limit: usize::MAX,
                        trashed,
                    })
                    .await
                    .unwrap(),
            );
        }
        assert_eq!(
            all.len(),
            self.tasks.len(),
            "every created task is stored once"
        );
        let mut numbers = HashSet::new();
        for t in &all {
            let status = flow
                .status(t.status_id)
                .unwrap_or_else(|| panic!("task {} has a status outside the workflow", t.number));
            assert_eq!(
                t.completed_at.is_some(),
                status.category == tasklane_core::StatusCategory::Completed,
                "completed_at follows the category for task {}",
                t.number
            );
            assert!(numbers.insert(t.number), "numbers are unique");
        }
        // The subtask tree is acyclic.
        let parents: HashMap<TaskId, Option<TaskId>> =
            all.iter().map(|t| (t.id, t.parent_id)).collect();
        for t in &all {
            let mut seen = HashSet::new();
            let mut at = Some(t.id);
            while let Some(id) = at {
                assert!(
                    seen.insert(id),
                    "the subtask tree has a cycle through {}",
                    t.number
                );
                at = parents.get(&id).copied().flatten();
            }
            assert!(seen.len() - 1 <= self.fx.engine.config().max_subtask_depth);
        }
        // The dependency graph is acyclic.
        let mut edges: HashMap<TaskId, Vec<TaskId>> = HashMap::new();
        for t in &all {
            for d in store.blockers_of(t.id).await.unwrap() {
                edges.entry(d.blocker_id).or_default().push(d.task_id);
            }
        }
        fn visit(n: TaskId, edges: &HashMap<TaskId, Vec<TaskId>>, state: &mut HashMap<TaskId, u8>) {
            match state.get(&n) {
                Some(1) => panic!("the dependency graph has a cycle"),
                Some(2) => return,
                _ => {}
            }
            state.insert(n, 1);
            for m in edges.get(&n).into_iter().flatten() {
                visit(*m, edges, state);
            }
            state.insert(n, 2);
        }
        let mut state = HashMap::new();
        for t in &all {
            visit(t.id, &edges, &mut state);
        }
        // The outsider sees nothing; every member sees exactly the live tasks.
        let outsider = self.fx.outsider;
        let listed = self
            .fx
            .engine
            .tasks()
            .list(&outsider, project, TaskListRequest::default())
            .await;
        assert!(matches!(listed, Err(Error::NotFound { .. })));
        for t in &all {
            let got = self
                .fx
                .engine
                .tasks()
                .get(&outsider, &TaskRef::Id(t.id))
                .await;
            assert!(matches!(got, Err(Error::NotFound { .. })));
        }
        let feed = self
            .fx
            .engine
            .activity()
            .of_project(&outsider, project, 0, None)
            .await;
        assert!(matches!(feed, Err(Error::NotFound { .. })));
        let live = all.iter().filter(|t| t.deleted_at.is_none()).count();
        let page = self
            .fx
            .engine
            .tasks()
            .list(
                &self.fx.guest,
                project,
                TaskListRequest {
                    limit: Some(200),
                    ..TaskListRequest::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(page.items.len(), live);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn random_operations_keep_the_invariants(ops in proptest::collection::vec(op(), 1..60)) {
        let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
        runtime.block_on(async {
            let fx = Fixture::new(MemoryStore::new()).await;
            let mut world = World { fx, tasks: Vec::new(), max_number: 0 };
            for op in &ops {
                let seq_before = world.fx.engine.store().last_seq().await.unwrap();
                let result = world.apply(op).await;
                let who = match op {
                    Op::Create { who, .. } | Op::Transition { who, .. } | Op::Prioritise { who, .. }
                    | Op::Block { who, .. } | Op::Unblock { who, .. } | Op::Reparent { who, .. }
                    | Op::Delete { who, .. } | Op::Restore { who, .. } | Op::Comment { who, .. }
                    | Op::BulkTransition { who, .. } | Op::DropStatus { who, .. }
                    | Op::RecategoriseLast { who, .. } => *who,
                };
                match &result {
                    Err(Error::Store(e)) => panic!("store failure {e:?} on {op:?}"),
                    Err(Error::Unauthenticated) => panic!("unexpected unauthenticated on {op:?}"),
                    Err(_) => {
                        let seq_after = world.fx.engine.store().last_seq().await.unwrap();
                        assert_eq!(seq_before, seq_after, "a failed operation appended events: {op:?}");
                    }
                    Ok(()) => {}
                }
                if who == 3 && !world.tasks.is_empty() && !matches!(op, Op::Create { .. } | Op::DropStatus { .. } | Op::RecategoriseLast { .. }) {
                    assert!(matches!(result, Err(Error::NotFound { .. })), "outsider got {result:?} on {op:?}");
                }
                if who == 3 {
                    assert!(!matches!(result, Ok(()) if seq_before != world.fx.engine.store().last_seq().await.unwrap()), "an outsider changed something: {op:?}");
                }
                let seq_after = world.fx.engine.store().last_seq().await.unwrap();
                if who == 2 && seq_after != seq_before {
                    assert!(matches!(op, Op::Comment { .. }), "a guest changed something: {op:?}");
                }
                world.check_invariants().await;
            }
            Ok::<(), TestCaseError>(())
        })?;
    }
}
