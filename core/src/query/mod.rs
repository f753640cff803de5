//! Queries over tasks: the filter language (parsed into [`FilterExpr`]), the resolved
//! [`TaskFilter`] that stores evaluate, sort orders and cursors for stable pagination.

mod ast;
mod display;
mod filter;
mod parse;
mod sort;

pub use ast::*;
pub use filter::{TaskFilter, TaskQuery, TaskScope};
pub use parse::parse;
pub use sort::{SortField, SortValue, TaskCursor, TaskSort};
