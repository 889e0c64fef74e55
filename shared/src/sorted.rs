//! Lists kept sorted by id as items arrive.

/// Puts `item` into `list`, kept sorted by `id`. Ids are handed out in
/// order, so this is a push but for an id that arrives out of order; one
/// already there is not added twice.
pub(crate) fn insert_by_id<T, K: Ord>(list: &mut Vec<T>, item: T, id: impl Fn(&T) -> K) {
    match list.last() {
        Some(last) if id(last) >= id(&item) => {
            if let Err(i) = list.binary_search_by_key(&id(&item), &id) {
                list.insert(i, item);
            }
        }
        _ => list.push(item),
    }
}
