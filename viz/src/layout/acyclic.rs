//! Making the graph acyclic for layering by reversing a few edges.
//!
//! Task graphs are acyclic already; collapsed graphs need not be (`f → g → f` between
//! calls becomes a loop between groups). A reversed edge is laid out upside down and
//! drawn with its arrow turned back, as Graphviz does.

/// For each edge, whether it must be reversed: exactly the back edges of a depth-first
/// search, which leaves a DAG. Self-loops must not be passed in.
pub(crate) fn back_edges(nodes: usize, edges: &[(usize, usize)]) -> Vec<bool> {
    let mut out: Vec<Vec<usize>> = vec![Vec::new(); nodes];
    for (i, &(from, _)) in edges.iter().enumerate() {
        out[from].push(i);
    }
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        OnStack,
        Done,
    }
    let mut mark = vec![Mark::New; nodes];
    let mut reversed = vec![false; edges.len()];
    // Iterative, with (node, next out-edge to look at), so deep graphs cannot overflow
    // the stack.
    let mut stack: Vec<(usize, usize)> = Vec::new();
    for root in 0..nodes {
        if mark[root] != Mark::New {
            continue;
        }
        mark[root] = Mark::OnStack;
        stack.push((root, 0));
        while let Some(&mut (node, ref mut next)) = stack.last_mut() {
            if let Some(&edge) = out[node].get(*next) {
                *next += 1;
                let target = edges[edge].1;
                match mark[target] {
                    Mark::New => {
                        mark[target] = Mark::OnStack;
                        stack.push((target, 0));
                    }
                    Mark::OnStack => reversed[edge] = true,
                    Mark::Done => {}
                }
            } else {
                mark[node] = Mark::Done;
                stack.pop();
            }
        }
    }
    reversed
}

#[cfg(test)]
mod tests {
    use super::*;

    fn is_acyclic(nodes: usize, edges: &[(usize, usize)]) -> bool {
        let mut indegree = vec![0; nodes];
        for &(_, to) in edges {
            indegree[to] += 1;
        }
        let mut ready: Vec<usize> = (0..nodes).filter(|&n| indegree[n] == 0).collect();
        let mut seen = 0;
        while let Some(n) = ready.pop() {
            seen += 1;
            for &(from, to) in edges {
                if from == n {
                    indegree[to] -= 1;
                    if indegree[to] == 0 {
                        ready.push(to);
                    }
                }
            }
        }
        seen == nodes
    }

    #[test]
    fn a_dag_keeps_every_edge() {
        let edges = [(0, 1), (1, 2), (0, 2), (3, 2)];
        assert_eq!(back_edges(4, &edges), [false; 4]);
    }

    #[test]
    fn cycles_are_broken() {
        let edges = [(0, 1), (1, 2), (2, 0), (2, 3), (3, 1), (1, 0)];
        let reversed = back_edges(4, &edges);
        let oriented: Vec<(usize, usize)> = edges
            .iter()
            .zip(&reversed)
            .map(|(&(a, b), &r)| if r { (b, a) } else { (a, b) })
            .collect();
        assert!(is_acyclic(4, &oriented));
        assert!(reversed.iter().filter(|&&r| r).count() <= 3);
    }
}
