//! Pages over a project large enough for every query strategy (early stop on an ordered index,
//! intersections, collecting a small candidate set, falling back to the sort index), walked to
//! the end with cursors, against the reference store.

mod common;

use common::*;
use tasklane_core::ids::*;
use tasklane_core::model::*;
use tasklane_core::query::{SortField, TaskFilter, TaskQuery, TaskScope, TaskSort};
use tasklane_core::store::{Commit, MemoryStore, Record, Store};
use tasklane_storage_sled::SledStore;
use time::Duration;

const N: u64 = 3000;

fn big_task(d: &mut Dice, n: u64) -> Task {
    let p = project(0);
    let status = if d.chance(70) {
        status(0)
    } else {
        status(1 + d.n(2))
    };
    Task {
        id: TaskId(uid(70, u128::from(n))),
        workspace_id: ws(0),
        project_id: p,
        number: n,
        title: format!("t{}", d.roll(50)),
        description: String::new(),
        status_id: status,
        priority: Priority::ALL[d.roll(5) as usize],
        assignee_ids: if d.chance(5) {
            vec![user(0)]
        } else {
            vec![user(1 + d.n(3))]
        },
        reporter_id: user(0),
        label_ids: if d.chance(3) { vec![label(0)] } else { vec![] },
        milestone_id: None,
        due_at: if d.chance(50) {
            Some(base_time() + Duration::minutes(i64::from(d.roll(500))))
        } else {
            None
        },
        start_at: None,
        estimate_seconds: None,
        parent_id: None,
        position: format!("{:05}", d.roll(4000)),
        completed_at: None,
        started_at: None,
        deleted_at: if d.chance(5) { Some(base_time()) } else { None },
        // Few distinct instants: many ties broken by id.
        created_at: base_time() + Duration::seconds(i64::from(d.roll(700))),
        updated_at: base_time() + Duration::seconds(i64::from(d.roll(900))),
        version: 1,
    }
}

async fn all_pages<S: Store>(s: &S, mut q: TaskQuery) -> Vec<Vec<TaskId>> {
    let mut pages = Vec::new();
    loop {
        let page = s.tasks(&q).await.unwrap();
        let Some(last) = page.last() else { break };
        q.after = Some(q.sort.cursor_of(last));
        pages.push(page.iter().map(|t| t.id).collect());
        if pages.len() > 10_000 {
            panic!("paging does not end");
        }
    }
    pages
}

#[test]
fn large_project_pages_match_the_reference() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let memory = MemoryStore::new();
        let sled = SledStore::temporary().unwrap();
        let numbers: Vec<u32> = {
            use rand::{Rng, SeedableRng};
            let mut rng = rand::rngs::StdRng::seed_from_u64(11);
            (0..50_000).map(|_| rng.gen()).collect()
        };
        let mut d = Dice::new(&numbers);
        let mut c = Commit::new();
        for n in 1..=N {
            c.insert(Record::Task(big_task(&mut d, n)));
            if n % 250 == 0 {
                memory.commit(c.clone()).await.unwrap();
                sled.commit(std::mem::take(&mut c)).await.unwrap();
            }
        }
        let filters = [
            TaskFilter::True,
            // Dense status, sparse assignee: the intersection.
            TaskFilter::And(vec![
                TaskFilter::StatusIn(vec![status(0)]),
                TaskFilter::AssigneeIn(vec![user(0)]),
            ]),
            TaskFilter::StatusIn(vec![status(0), status(2)]),
            TaskFilter::Or(vec![
                TaskFilter::LabelIn(vec![label(0)]),
                TaskFilter::AssigneeIn(vec![user(0)]),
            ]),
            TaskFilter::Not(Box::new(TaskFilter::StatusIn(vec![status(0)]))),
            TaskFilter::And(vec![
                TaskFilter::AssigneeIn(vec![user(1), user(2)]),
                TaskFilter::Text("t1".into()),
            ]),
        ];
        for (f, filter) in filters.iter().enumerate() {
            for field in SORT_FIELDS {
                // Project-wide position and title orders have no index: every page fetches the
                // whole candidate set, which is slow in the reference store and here alike.
                if matches!(field, SortField::Position | SortField::Title) && f > 2 {
                    continue;
                }
                for descending in [false, true] {
                    // Small pages only for a few orders: the reference store scans the whole
                    // project for every page.
                    let small = matches!(field, SortField::Created | SortField::Due);
                    for (limit, trashed) in [(50, false), (if small { 7 } else { 50 }, true)] {
                        let q = TaskQuery {
                            scope: TaskScope::Project(project(0)),
                            filter: filter.clone(),
                            sort: TaskSort { field, descending },
                            after: None,
                            limit,
                            trashed,
                        };
                        let want = all_pages(&memory, q.clone()).await;
                        let got = all_pages(&sled, q.clone()).await;
                        assert_eq!(got, want, "{q:?}");
                        if field == SortField::Created && limit == 50 {
                            assert!(!want.is_empty() || trashed);
                        }
                    }
                }
            }
            for p in [project(0), project(1)] {
                assert_eq!(
                    sled.status_counts(p, filter).await,
                    memory.status_counts(p, filter).await
                );
            }
        }
    });
}
