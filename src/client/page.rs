//! Pagination: the list parameters, when a page is the last one, and which cursor reaches
//! the page after or before a page. Lists are newest first; there is no `has_more` on the
//! wire, so a page shorter than `limit` ends the walk (a `has_more` a server does send wins).

use super::error::ClientError;
use super::{is_int, Json, Map};
use std::rc::Rc;

pub use crate::spec::{DEFAULT_LIST_LIMIT as DEFAULT_LIMIT, MAX_LIST_LIMIT as MAX_LIMIT};
/// The largest `toArray({ max })`.
pub const MAX_TO_ARRAY: u32 = 10_000;

/// Which way a page was fetched: `Forward` = `starting_after` (older items) or the first
/// page, `Backward` = `ending_before` (newer items).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Dir {
    #[default]
    Forward,
    Backward,
}

impl Dir {
    /// The neighbour a walk fetched this way goes on to.
    pub fn onward(self) -> Which {
        match self {
            Dir::Forward => Which::Next,
            Dir::Backward => Which::Previous,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Cursor {
    StartingAfter(String),
    EndingBefore(String),
}

impl Cursor {
    pub fn dir(&self) -> Dir {
        match self {
            Cursor::StartingAfter(_) => Dir::Forward,
            Cursor::EndingBefore(_) => Dir::Backward,
        }
    }
}

/// Which neighbour of a page: `Next` = older items, `Previous` = newer items.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Which {
    Next,
    Previous,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ListParams {
    pub limit: u32,
    pub cursor: Option<Cursor>,
    /// The validated filters, in the caller's order.
    pub filters: Map<String, Json>,
}

impl ListParams {
    /// A list call's parameters once checked (`Resource::check_params`: `limit` 1..=100,
    /// one cursor, camelCase or in the wire spelling): the page size (default 10), the cursor
    /// and the filters.
    pub fn from_checked(params: Map<String, Json>) -> ListParams {
        // One pass keeping the filters, without IndexMap's `shift_remove` (PERFORMANCE.md: sizes).
        let (mut limit, mut cursor, mut filters) = (DEFAULT_LIMIT, None, Map::new());
        for (k, v) in params {
            match (k.as_str(), v) {
                ("limit", n) => limit = n.as_f64().map_or(DEFAULT_LIMIT, |n| n as u32),
                ("startingAfter" | "starting_after", Json::String(id)) => {
                    cursor = Some(Cursor::StartingAfter(id))
                }
                ("endingBefore" | "ending_before", Json::String(id)) => {
                    cursor = Some(Cursor::EndingBefore(id))
                }
                ("startingAfter" | "starting_after" | "endingBefore" | "ending_before", _) => {}
                (_, v) => {
                    filters.insert(k, v);
                }
            }
        }
        ListParams { limit, cursor, filters }
    }

    pub fn dir(&self) -> Dir {
        self.cursor.as_ref().map_or(Dir::Forward, Cursor::dir)
    }

    /// The query members, wire spelling: filters, then `limit`, then the cursor.
    pub fn query(self) -> Map<String, Json> {
        let mut q = self.filters;
        q.insert("limit".into(), self.limit.into());
        match &self.cursor {
            Some(Cursor::StartingAfter(id)) => q.insert("starting_after".into(), Json::from(id.as_str())),
            Some(Cursor::EndingBefore(id)) => q.insert("ending_before".into(), Json::from(id.as_str())),
            None => None,
        };
        q
    }
}

/// Whether more items follow a page in the direction it was fetched. A `has_more` from the
/// server wins; otherwise a full page may have more, a short one is the last.
pub fn has_more(limit: u32, count: u32, server: Option<bool>) -> bool {
    server.unwrap_or(count > 0 && count >= limit)
}

/// The cursor of a page's neighbour, or `None` when that side is known to be empty (the
/// page was fetched that way and had no more) or cannot be addressed (an empty page).
pub fn neighbour(
    which: Which,
    page_dir: Dir,
    page_has_more: bool,
    first_id: Option<&str>,
    last_id: Option<&str>,
) -> Option<Cursor> {
    match which {
        Which::Next if page_dir == Dir::Forward && !page_has_more => None,
        Which::Previous if page_dir == Dir::Backward && !page_has_more => None,
        Which::Next => last_id.filter(|s| !s.is_empty()).map(|s| Cursor::StartingAfter(s.into())),
        Which::Previous => first_id.filter(|s| !s.is_empty()).map(|s| Cursor::EndingBefore(s.into())),
    }
}

/// The longest id a page may have at either end, in UTF-16 code units: it is the cursor of
/// the page after or before (a query parameter), and the API's ids are a few dozen
/// characters. A longer one is never copied into the module: the page is refused.
pub const MAX_CURSOR_CHARS: usize = 1024;

/// The error for a page whose first or last item has an id of `len` characters, more than
/// [`MAX_CURSOR_CHARS`].
pub fn cursor_too_long(len: usize, secrets: &[&str]) -> ClientError {
    // The bound written out (the test holds it to MAX_CURSOR_CHARS): one argument fewer.
    let message = format!("The QbitPay API answered a list page with an item id of {len} characters at one end, longer than a cursor can be (1024)");
    ClientError::refused("invalid_response", message, None, None, secrets)
}

/// The most cursors a chain of pages remembers exactly (see [`Trail`]).
pub const TRAIL_LIMIT: u32 = 10_000;

/// The cursors a chain of pages was fetched at, in one direction (the pages of a walk, or
/// each `nextPage()` after a forward page): a page that leads back to one of them is refused
/// (`cursor_not_advancing`), as following it would go round for ever. A persistent list
/// shared by the pages of a chain; the last [`TRAIL_LIMIT`] cursors are remembered exactly,
/// and past them a circle is still found by a checkpoint moved to the newest cursor at
/// depths 1, 2, 4, 8, ... (Brent's cycle finding), so memory stays bounded.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Trail(Option<Rc<Link>>);

#[derive(Debug, PartialEq, Eq)]
struct Link {
    /// A hash of the cursor's id.
    cursor: u64,
    /// Cursors in the chain up to this one, and how many of them are still linked.
    depth: u64,
    linked: u32,
    checkpoint: u64,
    prev: Option<Rc<Link>>,
}

/// A hash of a cursor's id as a server may read it: its ASCII letters in either case, and
/// white space or invisible characters in it ignored (a server that changes only those in
/// the ids it answers with, "A2" or "a2 " after "a2", still goes round in a circle).
fn cursor_hash(id: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    let mut id = super::error::visible(id);
    id.make_ascii_lowercase();
    id.hash(&mut h);
    h.finish()
}

impl Trail {
    /// This trail with `id` fetched next.
    pub fn with(&self, id: &str) -> Trail {
        let cursor = cursor_hash(id);
        let link = match &self.0 {
            None => Link { cursor, depth: 1, linked: 1, checkpoint: cursor, prev: None },
            Some(l) => {
                let depth = l.depth + 1;
                let checkpoint = if depth.is_power_of_two() { cursor } else { l.checkpoint };
                let (linked, prev) =
                    if l.linked >= TRAIL_LIMIT { (1, None) } else { (l.linked + 1, Some(l.clone())) };
                Link { cursor, depth, linked, checkpoint, prev }
            }
        };
        Trail(Some(Rc::new(link)))
    }

    /// Whether `id` was fetched in this chain.
    pub fn contains(&self, id: &str) -> bool {
        let cursor = cursor_hash(id);
        let mut at = self.0.as_deref();
        if at.is_some_and(|l| l.checkpoint == cursor) {
            return true;
        }
        while let Some(l) = at {
            if l.cursor == cursor {
                return true;
            }
            at = l.prev.as_deref();
        }
        false
    }
}

/// What a walk needs to know of a page: its length, how it was fetched, whether more follow,
/// the ids at both ends (its cursors), and the cursors its chain was fetched at.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PageInfo {
    pub len: u32,
    pub dir: Dir,
    pub has_more: bool,
    pub first_id: Option<String>,
    pub last_id: Option<String>,
    pub trail: Trail,
}

impl PageInfo {
    /// A page of `len` items fetched with `page` (the request's limit and cursor), after the
    /// chain `from` (see [`PageInfo::trail_towards`]; empty for a list's first page); the
    /// server's `has_more`, when it sent one, wins over the length rule. A page whose far end
    /// (its last item forward, its first backward) is a cursor this chain was already fetched
    /// at, this page's own included, is refused (`cursor_not_advancing`): following it would
    /// go round for ever, and its items repeat. `secrets` are cut out of the message.
    pub fn new(
        page: Option<&(u32, Option<Cursor>)>,
        len: u32,
        server_has_more: Option<bool>,
        first_id: Option<String>,
        last_id: Option<String>,
        from: &Trail,
        secrets: &[&str],
    ) -> Result<PageInfo, ClientError> {
        let (limit, at) = page.map_or((DEFAULT_LIMIT, None), |(l, c)| (*l, c.as_ref()));
        let (name, id, onward) = match at {
            Some(Cursor::StartingAfter(id)) => ("startingAfter", id, &last_id),
            Some(Cursor::EndingBefore(id)) => ("endingBefore", id, &first_id),
            None => ("", &String::new(), &None),
        };
        let trail = if at.is_some() { from.with(id) } else { from.clone() };
        if let Some(onward) = onward.as_ref().filter(|o| trail.contains(o)) {
            let message = if onward == id {
                format!("QbitPay API answered the list page at {name} {id} with a page that ends at {id} again: the cursor does not advance, so the list stops here")
            } else {
                format!("QbitPay API answered the list page at {name} {id} with a page that ends at {onward}, a cursor this list was already fetched at: the cursors go round in a circle, so the list stops here")
            };
            return Err(ClientError::refused("cursor_not_advancing", message, None, None, secrets));
        }
        let dir = at.map_or(Dir::Forward, Cursor::dir);
        Ok(PageInfo { len, dir, has_more: has_more(limit, len, server_has_more), first_id, last_id, trail })
    }

    /// The cursor of this page's neighbour (`None`: that side is known to be empty). A page
    /// that says more items follow the way it was fetched but has no id at that end to fetch
    /// them with (an empty page with `hasMore`) is refused (`cursor_not_advancing`): the list
    /// cannot go on, and ending it quietly would look like its end.
    pub fn neighbour(&self, which: Which) -> Result<Option<Cursor>, ClientError> {
        let c = neighbour(which, self.dir, self.has_more, self.first_id.as_deref(), self.last_id.as_deref());
        if c.is_none() && which == self.dir.onward() && self.has_more {
            let message = String::from("QbitPay API answered a list page with more items to follow but no item id to fetch them after, so the list stops here");
            return Err(ClientError::refused("cursor_not_advancing", message, None, None, &[]));
        }
        Ok(c)
    }

    /// The chain a neighbour continues: this page's, onwards in the direction it was fetched;
    /// a new one the other way (going back and forth is not a circle).
    pub fn trail_towards(&self, which: Which) -> Trail {
        match (which, self.dir) {
            (Which::Next, Dir::Forward) | (Which::Previous, Dir::Backward) => self.trail.clone(),
            _ => Trail::default(),
        }
    }
}

/// What a walk does next.
#[derive(Clone, Debug, PartialEq)]
pub enum Step {
    /// Yield the item at this index of the current page.
    Item(u32),
    /// Fetch the list's first page, then report it with [`Walk::loaded`].
    First,
    /// Fetch the page at this cursor, then report it with [`Walk::loaded`].
    Fetch(Cursor),
    /// The walk is over.
    End,
    /// The walk ends with this error (see [`PageInfo::neighbour`]).
    Fail(Box<ClientError>),
}

/// An auto-paging walk over every item of a list: items in the order of the walk (a page
/// fetched backward, with `endingBefore`, is yielded oldest first, moving away from the
/// cursor), the next page fetched only when the current one is used up.
#[derive(Clone, Debug, Default)]
pub struct Walk {
    page: Option<PageInfo>,
    i: u32,
    done: bool,
}

impl Walk {
    pub fn step(&mut self) -> Step {
        if let Some(i) = self.ready() {
            return Step::Item(i);
        }
        if self.done {
            return Step::End;
        }
        let Some(p) = &self.page else {
            return Step::First;
        };
        let next = p.neighbour(p.dir.onward());
        self.done = !matches!(next, Ok(Some(_)));
        match next {
            Ok(Some(c)) => Step::Fetch(c),
            Ok(None) => Step::End,
            Err(e) => Step::Fail(Box::new(e)),
        }
    }

    /// The next item's index if it is in the current page (nothing changes otherwise).
    pub fn ready(&mut self) -> Option<u32> {
        let p = self.page.as_ref().filter(|p| !self.done && self.i < p.len)?;
        let i = self.i;
        self.i += 1;
        Some(if p.dir == Dir::Backward { p.len - 1 - i } else { i })
    }

    /// The page that [`Step::First`] or [`Step::Fetch`] asked for.
    pub fn loaded(&mut self, page: PageInfo) {
        self.page = Some(page);
        self.i = 0;
    }

    /// The chain the walk's next page continues (the current page's).
    pub fn trail(&self) -> Trail {
        self.page.as_ref().map(|p| p.trail.clone()).unwrap_or_default()
    }
}

/// `toArray({ max })`: `max` is required, an integer from 1 to 10,000.
pub fn to_array_max(opts: &Json) -> Result<u32, ClientError> {
    match opts.get("max") {
        None | Some(Json::Null) => Err(ClientError::invalid(
            "max",
            String::from("Missing max: toArray needs the largest number of items to collect, an integer from 1 to 10000"),
        )),
        Some(v) => match v.as_f64() {
            Some(n) if is_int(n) && n >= 1.0 && n <= MAX_TO_ARRAY as f64 => {
                Ok(n as u32)
            }
            _ => Err(ClientError::invalid(
                "max",
                String::from("Invalid max: must be an integer from 1 to 10000"),
            )),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::error::ErrorKind;
    use crate::client::parse;
    use crate::spec::resources::charges;

    fn lp(s: &str) -> Result<ListParams, ClientError> {
        Ok(ListParams::from_checked(charges::RESOURCE.check_params(&charges::list, &parse(s).unwrap())?))
    }

    #[test]
    fn list_params_table() {
        let p = lp("{}").unwrap();
        assert_eq!((p.limit, p.cursor.clone(), p.dir()), (10, None, Dir::Forward));
        let p = lp(r#"{"limit":100,"startingAfter":"ch_1","externalOrderId":"o"}"#).unwrap();
        assert_eq!(p.cursor, Some(Cursor::StartingAfter("ch_1".into())));
        assert_eq!(
            Json::Object(p.query()).to_string(),
            r#"{"externalOrderId":"o","limit":100,"starting_after":"ch_1"}"#
        );
        let p = lp(r#"{"ending_before":"ch_9","limit":null}"#).unwrap();
        assert_eq!((p.limit, p.dir()), (10, Dir::Backward));
        assert_eq!(lp(r#"{"starting_after":"a"}"#).unwrap().cursor, Some(Cursor::StartingAfter("a".into())));
        assert!(lp("null").is_ok());
        for (src, param) in [
            (r#"{"limit":0}"#, "limit"),
            (r#"{"limit":101}"#, "limit"),
            (r#"{"limit":2.5}"#, "limit"),
            (r#"{"limit":"10"}"#, "limit"),
            (r#"{"startingAfter":"a","endingBefore":"b"}"#, "endingBefore"),
            (r#"{"startingAfter":"a","starting_after":"b"}"#, "starting_after"),
            (r#"{"startingAfter":5}"#, "startingAfter"),
            (r#"{"startingAfter":""}"#, "startingAfter"),
            (r#"{"bogus":1}"#, "bogus"),
            (r#"{"externalOrderId":7}"#, "externalOrderId"),
            (r#""x""#, "params"),
        ] {
            assert_eq!(lp(src).unwrap_err().param.as_deref(), Some(param), "{src}");
        }
    }

    #[test]
    fn short_page_ends_unless_the_server_says_otherwise() {
        assert!(has_more(10, 10, None));
        assert!(!has_more(10, 9, None));
        assert!(!has_more(10, 0, None));
        assert!(!has_more(10, 10, Some(false)));
        assert!(has_more(10, 3, Some(true)));
    }

    /// The cursor an auto-paging walk follows after a page: onwards in the walk's direction.
    fn walk_next(
        dir: Dir,
        page_has_more: bool,
        first_id: Option<&str>,
        last_id: Option<&str>,
    ) -> Option<Cursor> {
        neighbour(dir.onward(), dir, page_has_more, first_id, last_id)
    }

    #[test]
    fn neighbours() {
        use Which::*;
        let sa = |s: &str| Some(Cursor::StartingAfter(s.into()));
        let eb = |s: &str| Some(Cursor::EndingBefore(s.into()));
        // A forward page: next = after its last item unless it was the last page.
        assert_eq!(neighbour(Next, Dir::Forward, true, Some("a"), Some("z")), sa("z"));
        assert_eq!(neighbour(Next, Dir::Forward, false, Some("a"), Some("z")), None);
        assert_eq!(neighbour(Previous, Dir::Forward, false, Some("a"), Some("z")), eb("a"));
        // A backward page: previous = before its first item unless nothing newer is left.
        assert_eq!(neighbour(Previous, Dir::Backward, true, Some("a"), Some("z")), eb("a"));
        assert_eq!(neighbour(Previous, Dir::Backward, false, Some("a"), Some("z")), None);
        assert_eq!(neighbour(Next, Dir::Backward, false, Some("a"), Some("z")), sa("z"));
        // An empty page has no neighbour to address.
        assert_eq!(neighbour(Next, Dir::Backward, false, None, None), None);
        assert_eq!(walk_next(Dir::Forward, true, Some("a"), Some("z")), sa("z"));
        assert_eq!(walk_next(Dir::Backward, true, Some("a"), Some("z")), eb("a"));
        assert_eq!(walk_next(Dir::Backward, false, Some("a"), Some("z")), None);
    }

    /// The state machine walking a simulated server of 25 items, limit 10, both ways.
    #[test]
    fn walks_a_simulated_list_both_ways() {
        // Newest first: ids 25..1.
        let all: Vec<String> = (1..=25).rev().map(|i| format!("c{i:02}")).collect();
        let page = |c: &Option<Cursor>| -> Vec<String> {
            match c {
                None => all.iter().take(10).cloned().collect(),
                Some(Cursor::StartingAfter(id)) => {
                    let i = all.iter().position(|x| x == id).unwrap();
                    all[i + 1..].iter().take(10).cloned().collect()
                }
                Some(Cursor::EndingBefore(id)) => {
                    let i = all.iter().position(|x| x == id).unwrap();
                    all[i.saturating_sub(10)..i].to_vec()
                }
            }
        };
        let walk = |start: Option<Cursor>| {
            let dir = start.as_ref().map_or(Dir::Forward, Cursor::dir);
            let (mut c, mut seen, mut requests) = (start, Vec::new(), 0);
            loop {
                let data = page(&c);
                requests += 1;
                let more = has_more(10, data.len() as u32, None);
                let mut d = data.clone();
                if dir == Dir::Backward {
                    d.reverse();
                }
                seen.extend(d);
                match walk_next(dir, more, data.first().map(|s| s.as_str()), data.last().map(|s| s.as_str()))
                {
                    Some(n) => c = Some(n),
                    None => break,
                }
            }
            (seen, requests)
        };
        let (fwd, n) = walk(None);
        assert_eq!((fwd, n), (all.clone(), 3));
        let (back, n) = walk(Some(Cursor::EndingBefore("c01".into())));
        let mut expect = all[..24].to_vec();
        expect.reverse();
        assert_eq!((back, n), (expect, 3));
    }

    #[test]
    fn to_array_max_is_required_and_capped() {
        let m = |s: &str| to_array_max(&parse(s).unwrap());
        assert_eq!(m(r#"{"max":1000}"#).unwrap(), 1000);
        assert_eq!(m(r#"{"max":10000}"#).unwrap(), 10000);
        for bad in ["{}", "null", r#"{"max":10001}"#, r#"{"max":0}"#, r#"{"max":"5"}"#, r#"{"max":1.5}"#] {
            assert_eq!(m(bad).unwrap_err().param.as_deref(), Some("max"), "{bad}");
        }
    }

    fn info(len: u32, dir: Dir, has_more: bool, first: &str, last: &str) -> PageInfo {
        PageInfo {
            len,
            dir,
            has_more,
            first_id: Some(first.into()),
            last_id: Some(last.into()),
            trail: Trail::default(),
        }
    }

    #[test]
    fn a_walk_fetches_the_first_page_then_follows_the_cursor_to_the_end() {
        let mut w = Walk::default();
        assert_eq!(w.ready(), None);
        assert_eq!(w.step(), Step::First);
        assert_eq!(w.step(), Step::First, "asking again changes nothing");
        w.loaded(info(2, Dir::Forward, true, "c9", "c8"));
        assert_eq!((w.step(), w.step()), (Step::Item(0), Step::Item(1)));
        assert_eq!(w.ready(), None);
        assert_eq!(w.step(), Step::Fetch(Cursor::StartingAfter("c8".into())));
        w.loaded(info(1, Dir::Forward, false, "c7", "c7"));
        assert_eq!(w.ready(), Some(0));
        assert_eq!(w.step(), Step::End);
        assert_eq!(w.step(), Step::End);
    }

    #[test]
    fn a_backward_walk_yields_each_page_oldest_first_and_moves_to_newer_items() {
        let mut w = Walk::default();
        w.loaded(info(3, Dir::Backward, true, "c6", "c4"));
        assert_eq!([w.step(), w.step(), w.step()], [Step::Item(2), Step::Item(1), Step::Item(0)]);
        assert_eq!(w.step(), Step::Fetch(Cursor::EndingBefore("c6".into())));
        w.loaded(PageInfo::default());
        assert_eq!(w.step(), Step::End, "an empty page ends the walk");
    }

    #[test]
    fn has_more_from_the_server_wins_over_the_page_length() {
        let full = PageInfo::new(
            Some(&(2, None)),
            2,
            None,
            Some("a".into()),
            Some("b".into()),
            &Trail::default(),
            &[],
        )
        .unwrap();
        assert!(full.has_more);
        let said_no = PageInfo::new(
            Some(&(2, None)),
            2,
            Some(false),
            Some("a".into()),
            Some("b".into()),
            &Trail::default(),
            &[],
        )
        .unwrap();
        assert!(!said_no.has_more);
        let short_but_more =
            PageInfo::new(None, 3, Some(true), Some("a".into()), Some("c".into()), &Trail::default(), &[])
                .unwrap();
        assert!(short_but_more.has_more);
        assert_eq!(short_but_more.neighbour(Which::Next), Ok(Some(Cursor::StartingAfter("c".into()))));
        let mut w = Walk::default();
        w.loaded(said_no);
        w.step();
        w.step();
        assert_eq!(w.step(), Step::End);
    }

    /// A server that answers every cursor with the same page (or a page ending at the
    /// cursor itself) is refused at that page, whether or not it says `has_more`: its items
    /// are not yielded again, and the walk ends instead of fetching the same cursor forever.
    #[test]
    fn a_page_ending_at_its_own_cursor_is_refused() {
        let sa = |s: &str| Some(Cursor::StartingAfter(s.into()));
        let eb = |s: &str| Some(Cursor::EndingBefore(s.into()));
        let page = |at: Option<Cursor>, more: Option<bool>, first: &str, last: &str| {
            PageInfo::new(
                Some(&(2, at)),
                2,
                more,
                Some(first.into()),
                Some(last.into()),
                &Trail::default(),
                &["sk_test_secret_key"],
            )
        };
        // The same full page again after its own last item: forward, with or without has_more.
        for more in [None, Some(true), Some(false)] {
            let e = page(sa("ch_b"), more, "ch_a", "ch_b").unwrap_err();
            assert_eq!((e.kind, e.code, e.status), (ErrorKind::Api, Some("cursor_not_advancing"), None));
            assert!(e.message.contains("startingAfter ch_b"), "{}", e.message);
        }
        // Backward: the page before ch_a that starts at ch_a.
        let e = page(eb("ch_a"), None, "ch_a", "ch_b").unwrap_err();
        assert!(e.message.contains("endingBefore ch_a"), "{}", e.message);
        // A cursor that moves, the other end matching, or the first page: accepted.
        assert!(page(sa("ch_c"), None, "ch_b", "ch_a").is_ok());
        assert!(page(sa("ch_a"), None, "ch_a", "ch_b").is_ok());
        assert!(page(eb("ch_b"), None, "ch_a", "ch_b").is_ok());
        assert!(page(None, None, "ch_a", "ch_a").is_ok());
        assert!(PageInfo::new(Some(&(2, sa("ch_b"))), 0, None, None, None, &Trail::default(), &[]).is_ok());
        // The cursor is quoted with credentials cut out.
        let e = page(sa("sk_test_secret_key"), None, "x", "sk_test_secret_key").unwrap_err();
        assert!(
            !e.message.contains("sk_test_secret_key") && e.message.contains("[redacted]"),
            "{}",
            e.message
        );

        // The walk: the first page, then the same page again ends it with the error.
        let mut w = Walk::default();
        assert_eq!(w.step(), Step::First);
        w.loaded(page(None, Some(true), "ch_a", "ch_b").unwrap());
        assert_eq!((w.step(), w.step()), (Step::Item(0), Step::Item(1)));
        let Step::Fetch(c) = w.step() else { panic!("a fetch") };
        assert!(page(Some(c), Some(true), "ch_a", "ch_b").is_err());
    }

    /// Pages whose cursors come back to one their chain was fetched at (A -> B -> A) are
    /// refused at the page that would close the circle, in either direction; a chain that
    /// turns round starts afresh.
    #[test]
    fn a_chain_that_comes_back_to_a_cursor_is_refused() {
        let page = |at: Option<Cursor>, ids: [&str; 2], from: &Trail| {
            PageInfo::new(Some(&(2, at)), 2, Some(true), Some(ids[0].into()), Some(ids[1].into()), from, &[])
        };
        let sa = |s: &str| Some(Cursor::StartingAfter(s.into()));
        let first = page(None, ["a1", "a2"], &Trail::default()).unwrap();
        let b = page(sa("a2"), ["b1", "b2"], &first.trail_towards(Which::Next)).unwrap();
        let e = page(sa("b2"), ["a1", "a2"], &b.trail_towards(Which::Next)).unwrap_err();
        assert_eq!(e.code, Some("cursor_not_advancing"));
        assert_eq!(e.message, "QbitPay API answered the list page at startingAfter b2 with a page that ends at a2, a cursor this list was already fetched at: the cursors go round in a circle, so the list stops here");
        // The same page asked for twice from one page, and back then forth again: no circle.
        assert!(page(sa("a2"), ["b1", "b2"], &first.trail_towards(Which::Next)).is_ok());
        let back = PageInfo::new(
            Some(&(2, Some(Cursor::EndingBefore("b1".into())))),
            2,
            Some(true),
            Some("a1".into()),
            Some("a2".into()),
            &b.trail_towards(Which::Previous),
            &[],
        )
        .unwrap();
        assert_eq!(back.trail_towards(Which::Next), Trail::default());
        assert!(page(sa("a2"), ["b1", "b2"], &back.trail_towards(Which::Next)).is_ok());
        // Backward: before b1 is [a1, a2], before a1 is [b1, b2].
        let eb = |s: &str| Some(Cursor::EndingBefore(s.into()));
        let p1 = page(eb("b1"), ["a1", "a2"], &Trail::default()).unwrap();
        let e = page(eb("a1"), ["b1", "b2"], &p1.trail_towards(Which::Previous)).unwrap_err();
        assert!(e.message.contains("endingBefore a1") && e.message.contains("ends at b1"), "{}", e.message);
    }

    /// A server that answers with the cursor again changed only in case or white space
    /// ("A2", "a2 ", "a\u{200b}2" after "a2") goes round in a circle too.
    #[test]
    fn a_cursor_changed_only_in_case_or_white_space_is_the_same_cursor() {
        let sa = |s: &str| Some(Cursor::StartingAfter(s.into()));
        for again in ["A2", "a2 ", " a2\t", "a\u{200b}2", "A\u{feff}2\n"] {
            let first = PageInfo::new(
                Some(&(2, None)),
                2,
                Some(true),
                Some("a1".into()),
                Some("a2".into()),
                &Trail::default(),
                &[],
            )
            .unwrap();
            let e = PageInfo::new(
                Some(&(2, sa("a2"))),
                2,
                Some(true),
                Some("b1".into()),
                Some(again.into()),
                &first.trail_towards(Which::Next),
                &[],
            )
            .unwrap_err();
            assert_eq!(e.code, Some("cursor_not_advancing"), "{again:?}");
        }
        assert!(!Trail::default().with("a2").contains("a3"));
        assert!(!Trail::default().with("é2").contains("É2"), "only ASCII letters in either case");
    }

    /// A page that says more items follow the way it was fetched but has no id at that end
    /// (empty, or its last item without one) cannot be followed: the walk and `nextPage` end
    /// with `cursor_not_advancing`, not quietly as at the list's end.
    #[test]
    fn a_page_with_more_but_no_cursor_is_refused_when_followed() {
        let sa = |s: &str| Some(Cursor::StartingAfter(s.into()));
        let eb = |s: &str| Some(Cursor::EndingBefore(s.into()));
        let page = |at: Option<Cursor>, len: u32, more: Option<bool>, ids: (Option<&str>, Option<&str>)| {
            PageInfo::new(
                Some(&(2, at)),
                len,
                more,
                ids.0.map(Into::into),
                ids.1.map(Into::into),
                &Trail::default(),
                &[],
            )
            .unwrap()
        };
        for p in [
            page(None, 0, Some(true), (None, None)),
            page(sa("a"), 0, Some(true), (None, None)),
            page(None, 2, None, (Some("a"), None)),
            page(sa("a"), 1, Some(true), (Some("b"), None)),
        ] {
            let e = p.neighbour(Which::Next).unwrap_err();
            assert_eq!((e.kind, e.code), (ErrorKind::Api, Some("cursor_not_advancing")));
            let mut w = Walk::default();
            w.loaded(p.clone());
            while let Step::Item(_) = w.step() {}
            assert!(matches!(w.step(), Step::End), "the walk ends after its error");
            assert_eq!(
                p.neighbour(Which::Previous).map_err(|_| ()),
                Ok(p.first_id.clone().map(Cursor::EndingBefore))
            );
        }
        let back = page(eb("z"), 0, Some(true), (None, None));
        assert!(back.neighbour(Which::Previous).is_err());
        let mut w = Walk::default();
        w.loaded(back);
        assert!(matches!(w.step(), Step::Fail(_)));
        // No more said (or a short page): the end, quietly.
        assert_eq!(page(sa("a"), 0, None, (None, None)).neighbour(Which::Next), Ok(None));
        assert_eq!(page(sa("a"), 0, Some(false), (None, None)).neighbour(Which::Next), Ok(None));
        assert_eq!(page(sa("a"), 1, None, (Some("b"), None)).neighbour(Which::Next), Ok(None));
    }

    #[test]
    fn an_id_longer_than_a_cursor_can_be_is_refused_with_the_key_cut_out() {
        let e = cursor_too_long(MAX_CURSOR_CHARS + 1, &["sk_test_secret_key"]);
        assert_eq!((e.kind, e.code, e.status), (ErrorKind::Api, Some("invalid_response"), None));
        assert_eq!(e.message, format!("The QbitPay API answered a list page with an item id of {} characters at one end, longer than a cursor can be ({MAX_CURSOR_CHARS})", MAX_CURSOR_CHARS + 1));
    }

    /// Past the cursors a trail remembers exactly, a longer circle is still found, and the
    /// memory of a long chain stays bounded.
    #[test]
    fn a_circle_longer_than_the_exact_memory_is_still_found() {
        let circle = TRAIL_LIMIT as usize + 7;
        let mut t = Trail::default();
        let mut found = None;
        for step in 0..circle * 4 {
            let id = format!("c{}", step % circle);
            if t.contains(&id) {
                found = Some(step);
                break;
            }
            t = t.with(&id);
        }
        let at = found.expect("the circle was never found");
        assert!(at >= circle && at <= circle * 4, "{at}");
        let linked = std::iter::successors(t.0.as_deref(), |l| l.prev.as_deref()).count();
        assert!(linked <= TRAIL_LIMIT as usize, "{linked} links");
        // A long chain without a circle is never refused.
        let mut t = Trail::default();
        for step in 0..TRAIL_LIMIT + 100 {
            let id = format!("d{step}");
            assert!(!t.contains(&id), "{id}");
            t = t.with(&id);
        }
    }
}
